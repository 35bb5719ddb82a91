"""Stream tokens never reach the server's log (issue #10): a real uvicorn, real requests."""

from __future__ import annotations

import logging

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway.access_log import SERVER_LOGGERS, redact
from tests.browser import serving

TOKEN = "eyJjYW1lcmFfaWQiOjF9.c2lnbmF0dXJlLXNlY3JldA"


def test_stream_tokens_are_redacted_in_the_access_log(
    sqlite_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(sqlite_runtime) as base:
        for logger in SERVER_LOGGERS:  # uvicorn's own set-up ran at start: attach after it
            logging.getLogger(logger).addHandler(caplog.handler)
            logging.getLogger(logger).setLevel(logging.INFO)
        try:
            hls = httpx.get(f"{base}/gw/v1/cameras/1/hls/master.m3u8?token={TOKEN}&x=1")
            assert hls.status_code == 401
            ws = base.replace("http://", "ws://") + f"/gw/v1/cameras/1/mse?token={TOKEN}"
            try:
                with connect(ws, open_timeout=10) as socket:
                    socket.recv(timeout=10)
            except (InvalidStatus, ConnectionClosed, TimeoutError):
                pass  # refused or closed: what matters is what was logged
        finally:
            for logger in SERVER_LOGGERS:
                logging.getLogger(logger).removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records]
    assert any("/hls/master.m3u8?token=[redacted]&x=1" in line for line in lines), lines
    assert any("WebSocket /gw/v1/cameras/1/mse?token=[redacted]" in line for line in lines), lines
    assert TOKEN not in caplog.text and "c2lnbmF0dXJl" not in caplog.text


def test_redact() -> None:
    assert redact("/a?token=abc&b=2") == "/a?token=[redacted]&b=2"
    assert redact("/a?b=2&access_token=xyz") == "/a?b=2&access_token=[redacted]"
    assert redact("/a?tokens=keep") == "/a?tokens=keep"
