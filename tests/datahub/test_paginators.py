"""Every paginator of dlt's REST source, by its dlt name, against a real local API; a next link
to another host is never followed (it would carry the source's token there)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DatasetRecord
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from tests.datahub.servers import Answer, json_api

CASES = [{"ma": f"PA-{n:03d}", "noi_dung": f"Phản ánh số {n}"} for n in range(1, 24)]
SIZE = 5


def answer(path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Answer:
    if path == "/pages":  # page_number, with a total of pages
        page = int(query.get("page", "1"))
        chunk = CASES[(page - 1) * SIZE : page * SIZE]
        return 200, {"items": chunk, "total_pages": -(-len(CASES) // SIZE)}, {}
    if path == "/offsets":
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", "5"))
        return 200, {"items": CASES[offset : offset + limit], "total": len(CASES)}, {}
    if path in {"/links", "/headers"}:
        start = int(query.get("from", "0"))
        chunk = CASES[start : start + SIZE]
        following = f"{base}{path[1:]}?from={start + SIZE}" if start + SIZE < len(CASES) else None
        if path == "/links":
            return 200, {"items": chunk, "next": following}, {}
        return 200, {"items": chunk}, ({"Link": f'<{following}>; rel="next"'} if following else {})
    if path == "/elsewhere":
        return 200, {"items": CASES[:SIZE], "next": "http://127.0.0.2:9/steal?from=5"}, {}
    return 404, {"error": "not found"}, {}


PAGINATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "page_number": (
        "pages",
        {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "total_pages"},
    ),
    "offset": ("offsets", {"type": "offset", "limit": SIZE, "total_path": "total"}),
    "json_link": ("links", {"type": "json_link", "next_url_path": "next"}),
    "header_link": ("headers", {"type": "header_link"}),
}


def declare(runtime: Runtime, base: str, path: str, paginator: dict[str, Any]) -> None:
    spec = {
        "code": "hotline",
        "name": "Tổng đài 1022",
        "kind": "rest_api",
        "config": {
            "client": {"base_url": base},
            "resources": [
                {
                    "name": "cases",
                    "primary_key": "ma",
                    "endpoint": {"path": path, "data_selector": "items", "paginator": paginator},
                }
            ],
            "mapping": {"cases": {"to": "dataset", "dataset": "hotline_cases"}},
        },
    }
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(spec))
        session.commit()


@pytest.mark.parametrize("kind", sorted(PAGINATORS))
def test_each_paginator_fetches_every_page(hub: Runtime, kind: str) -> None:
    path, paginator = PAGINATORS[kind]
    holder: dict[str, str] = {}
    with json_api(lambda p, q, h: answer(p, q, h, holder["base"])) as base:
        holder["base"] = base
        declare(hub, base, path, paginator)
        outcome = run_source(hub, "hotline")
    assert outcome.status == "succeeded", outcome.error
    assert (outcome.fetched, outcome.new) == (len(CASES), len(CASES))
    with hub.sessions() as session:
        keys = session.scalars(select(DatasetRecord.record_key)).all()
    assert sorted(keys) == [case["ma"] for case in CASES]


def test_a_next_link_to_another_host_is_not_followed(hub: Runtime) -> None:
    with json_api(lambda p, q, h: answer(p, q, h, "")) as base:
        declare(hub, base, "elsewhere", {"type": "json_link", "next_url_path": "next"})
        outcome = run_source(hub, "hotline")
    assert outcome.status == "failed"
    assert "http://127.0.0.2:9/steal is not on the source's own host" in (outcome.error or "")
    assert outcome.new == SIZE  # the first page, from the source itself, is kept


def test_a_run_closes_its_connections(hub: Runtime) -> None:
    """Kept-alive connections are closed when the run ends, not when the garbage collector
    finds the client (each held a socket and a server thread)."""
    path, paginator = PAGINATORS["offset"]
    open_connections: set[int] = set()
    with json_api(lambda p, q, h: answer(p, q, h, ""), open_connections) as base:
        declare(hub, base, path, paginator)
        outcome = run_source(hub, "hotline")
        assert outcome.status == "succeeded", outcome.error
        deadline = time.monotonic() + 5
        while open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not open_connections
