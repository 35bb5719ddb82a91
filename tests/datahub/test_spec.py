"""Source declarations are checked when loaded, and every error names the key to fix."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dieuhanh.core.errors import InvalidInput
from dieuhanh.datahub.spec import Freshness, load_file, parse_spec
from dieuhanh.datahub.standins import igate_source

BASE = igate_source("http://10.0.0.5:8080/")


def spec_with(change: Any) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    change(spec)
    return spec


def error_of(spec: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_spec(spec)
    return caught.value.message


def test_the_shipped_igate_source_is_valid() -> None:
    parsed = parse_spec(copy.deepcopy(BASE))
    assert parsed.kind == "rest_api"
    assert parsed.freshness is not None and parsed.freshness.max_age_minutes == 30


def test_an_unknown_paginator_lists_the_valid_ones() -> None:
    message = error_of(
        spec_with(lambda s: s["config"]["client"].update(paginator={"type": "pages"}))
    )
    assert message.startswith("config.client.paginator.type: 'pages' is not a paginator")
    for kind in ("page_number", "offset", "cursor", "json_link", "header_link"):
        assert kind in message


def test_a_misspelt_paginator_option_is_named() -> None:
    message = error_of(
        spec_with(
            lambda s: s["config"]["resources"][1]["endpoint"].update(
                paginator={"type": "page_number", "page_sise": 50}
            )
        )
    )
    assert message.startswith("config.resources[1].endpoint.paginator: unknown option")
    assert "page_sise" in message


def test_a_secret_written_in_clear_is_refused_without_echoing_it() -> None:
    message = error_of(
        spec_with(
            lambda s: s["config"]["client"].update(auth={"type": "bearer", "token": "s3cr3t-value"})
        )
    )
    assert message.startswith("config.client.auth.token: write the secret as a reference")
    assert "${DIEUHANH_SOURCE_" in message
    assert "s3cr3t-value" not in message


def test_a_source_may_read_only_its_own_environment_variables() -> None:
    message = error_of(
        spec_with(
            lambda s: s["config"]["client"].update(
                auth={"type": "bearer", "token": "${DIEUHANH_DATABASE_URL}"}
            )
        )
    )
    assert "${DIEUHANH_DATABASE_URL} is not allowed" in message


def test_auth_options_belong_to_their_type() -> None:
    message = error_of(
        spec_with(
            lambda s: s["config"]["client"].update(
                auth={"type": "http_basic", "username": "u", "token": "${DIEUHANH_SOURCE_T}"}
            )
        )
    )
    assert message.startswith("config.client.auth.token: not an option of auth type http_basic")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s.update(kind="ftp"),
            "kind: 'ftp' is not a connector kind; use one of mqtt, push, rest_api, upload, "
            "web_page",
        ),
        (lambda s: s.update(code="Bad Code"), "code: Value error, must be 2–60 lower-case"),
        (lambda s: s.update(schedule="every minute"), "schedule: Value error, 'every minute'"),
        (lambda s: s.update(freshness={}), "freshness: Value error, give exactly one of"),
        (
            lambda s: s["config"]["client"].update(base_url="ftp://x/"),
            "config.client.base_url: Value error, 'ftp://x/' is not an http(s) URL",
        ),
        (
            lambda s: s["config"]["mapping"].pop("monthly"),
            "config.mapping.monthly: resource 'monthly' is not mapped",
        ),
        (
            lambda s: s["config"]["mapping"].update(
                other={"to": "dataset", "dataset": "other_rows"}
            ),
            "config.mapping.other: no resource is named 'other'",
        ),
        (
            lambda s: s["config"]["mapping"]["monthly"].update(to="rows"),
            "config.mapping.monthly.to: say where the records go: `dataset`, `values` or `series`",
        ),
        (
            lambda s: s["config"]["mapping"]["monthly"].update(element_field="chi_tieu"),
            "config.mapping.monthly: give exactly one of element or element_field",
        ),
        (
            lambda s: s["config"]["resources"][0].pop("primary_key"),
            "config.mapping.dossiers.primary_key: a dataset needs the field",
        ),
        (
            lambda s: s["config"]["resources"][0]["endpoint"].update(verb="GET"),
            "config.resources[0].endpoint.verb: Extra inputs are not permitted",
        ),
    ],
)
def test_errors_name_the_key(change: Any, expected: str) -> None:
    assert expected in error_of(spec_with(change))


def test_a_yaml_file_names_the_source_at_fault(tmp_path: Path) -> None:
    good = tmp_path / "sources.yaml"
    good.write_text(
        "sources:\n  - code: igate_dossiers\n    name: iGate\n    kind: rest_api\n"
        "    config:\n      client: {base_url: 'http://10.0.0.5/'}\n"
        "      resources: [{name: r, primary_key: id, endpoint: {path: x}}]\n"
        "      mapping: {r: {to: dataset, dataset: hoso}}\n"
        "  - code: second\n    name: Second\n    kind: rest_api\n"
        "    config:\n      client: {base_url: 'http://10.0.0.5/', paginator: {type: page}}\n"
        "      resources: [{name: r, primary_key: id}]\n"
        "      mapping: {r: {to: dataset, dataset: hoso2}}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        load_file(good)
    assert f"{good}: sources[1].config.client.paginator.type: 'page' is not a paginator" in (
        caught.value.message
    )


def test_daily_freshness_asks_for_a_success_after_the_last_deadline() -> None:
    rule = Freshness(daily_by=time(17, 0))
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    before_deadline = datetime(2026, 12, 3, 16, 0, tzinfo=zone)
    after_deadline = datetime(2026, 12, 3, 17, 1, tzinfo=zone)
    # At 16:00 yesterday's success (any time after the day before's 17:00) still counts.
    assert rule.due_after(before_deadline) == datetime(2026, 12, 1, 17, 0, tzinfo=zone)
    assert rule.due_after(after_deadline) == datetime(2026, 12, 2, 17, 0, tzinfo=zone)
    assert Freshness(max_age_minutes=30).due_after(after_deadline) == datetime(
        2026, 12, 3, 16, 31, tzinfo=zone
    )
    assert datetime(2026, 12, 3, tzinfo=UTC)  # dates compare across zones
