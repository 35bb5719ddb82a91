"""Fuzzing the data hub's parsers of outside bytes: a pushed body, an MQTT message, a web page,
an uploaded file, a source declaration. Every input ends in records or in the hub's own clear
error (SourceFailure, InvalidInput), within a time bound; never in another exception. The budget
is fixed and derandomized so the suite stays fast and repeatable in CI."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dieuhanh.core.config import DatahubSettings
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.datahub.connectors import FetchContext, SourceFailure, Upload
from dieuhanh.datahub.connectors.mqtt import _decoded
from dieuhanh.datahub.connectors.push import PushConnector
from dieuhanh.datahub.connectors.upload import UploadConnector
from dieuhanh.datahub.connectors.web_page import Figures, Table, _figures, _table_records
from dieuhanh.datahub.mapping import RecordProblem, SeriesMapping, ValuesMapping, period_code
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import documents_upload_source

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BOUND_SECONDS = 5


class TookTooLong(Exception):
    pass


@contextmanager
def bounded() -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise TookTooLong

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(BOUND_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def context(upload: Upload | None = None) -> FetchContext:
    return FetchContext(
        settings=DatahubSettings(), policy=NetworkPolicy.of(["10.0.0.0/8"]), upload=upload
    )


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
PUSH_CONFIG = {
    "mapping": {"records": {"to": "dataset", "dataset": "x_rows", "primary_key": "ma"}},
    "max_records": 50,
}


@FUZZ
@given(st.one_of(st.binary(max_size=2000), JSONISH.map(lambda v: json.dumps(v).encode())))
def test_a_pushed_body_is_records_or_a_clear_failure(body: bytes) -> None:
    with bounded():
        try:
            pages = list(PushConnector().fetch(PUSH_CONFIG, context(Upload(body, "push"))))
        except SourceFailure:
            return
    assert all(isinstance(page.records, list) for page in pages)


MAPPING = SeriesMapping.model_validate(
    {"to": "series", "device_topic_level": 1, "metric_topic_level": 2, "time_field": "payload.ts"}
)


@FUZZ
@given(st.binary(max_size=500), st.text(max_size=40))
def test_an_mqtt_message_is_a_reading_or_a_named_problem(payload: bytes, topic: str) -> None:
    record = {"topic": topic, "payload": _decoded(payload), "received_at": "2026-12-03T00:00:00"}
    with bounded():
        try:
            MAPPING.device(record), MAPPING.metric_of(record), MAPPING.moment(record)
        except RecordProblem as problem:
            assert problem.message


HTML_BITS = st.sampled_from(
    ["<table id='t'>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "</th>", "x", "1,5",
     "<b class='so'>", "</b>", "<div id='tong'>", "</div>", "<!--", "-->", "<script>", "&amp;",
     "<td colspan=99999>", "\\x00", "Số nhiệm vụ"]
)  # fmt: skip


@FUZZ
@given(st.lists(HTML_BITS, max_size=300).map("".join) | st.text(max_size=3000))
def test_a_web_page_gives_records_or_says_its_layout_changed(page: str) -> None:
    from bs4 import BeautifulSoup

    with bounded():
        document = BeautifulSoup(page, "html.parser")
        for reader in (
            lambda: _table_records(document, Table(name="t", selector="table#t")),
            lambda: [_figures(document, Figures(name="f", fields={"so": "#tong .so"}))],
        ):
            try:
                records = reader()
            except SourceFailure as exc:
                assert "layout" in str(exc) or "no rows" in str(exc)
                continue
            assert all(isinstance(record, dict) for record in records)


UPLOAD_CONFIG = documents_upload_source()["config"]


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(st.lists(st.text(max_size=12), max_size=5), max_size=30).map(
            lambda rows: "\n".join(
                ",".join(row) for row in [["Mã đơn vị", "Tháng", "Số văn bản đến"], *rows]
            ).encode()
        ),
    ),
    st.sampled_from(["bao-cao.csv", "bao-cao.xlsx", "bao-cao.json", "x"]),
)
def test_an_uploaded_file_is_rows_or_a_clear_failure(data: bytes, name: str) -> None:
    with bounded():
        try:
            pages = list(UploadConnector().fetch(UPLOAD_CONFIG, context(Upload(data, name))))
        except SourceFailure as exc:
            assert str(exc)
            return
    for page in pages:
        assert page.row_numbers is not None and len(page.row_numbers) == len(page.records)


VALUES = ValuesMapping.model_validate(
    {
        "to": "values",
        "element": "X",
        "unit_field": "u",
        "period_field": "d",
        "period_type": "monthly",
        "value_field": "v",
    }
)


@FUZZ
@given(JSONISH)
def test_a_date_in_any_shape_is_a_period_or_a_named_problem(value: Any) -> None:
    try:
        code = period_code(VALUES, {"d": value})
    except RecordProblem as problem:
        assert problem.field == "d"
        return
    assert len(code) == 6 and code.isdigit()


@FUZZ
@given(JSONISH)
def test_a_declaration_of_any_shape_is_accepted_or_refused_by_key(config: Any) -> None:
    spec = {"code": "fuzzed", "name": "Fuzz", "kind": "rest_api", "config": config}
    with bounded():
        try:
            parse_spec(spec)
        except InvalidInput as exc:
            assert exc.message
