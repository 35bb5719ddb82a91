"""An HLS session ends some time after its stream token expired, however often it is polled."""

from __future__ import annotations

import time

import pytest

from dieuhanh.cameras.stream_tokens import StreamClaims
from dieuhanh.cameras.streams import camera_gateway_node
from dieuhanh.core.errors import NotFound
from dieuhanh.gateway.node import Admission
from dieuhanh.gateway.service import StreamKey


def admitted(claims: StreamClaims) -> Admission:
    key = StreamKey(claims.camera_id, claims.quality, claims.output)
    return Admission(key=key, ticket=claims, expires_at=float(claims.expires_at))


def test_a_polled_hls_session_still_ends(sqlite_runtime) -> None:
    sqlite_runtime.settings.gateway.hls_session_seconds = 120
    node = camera_gateway_node(sqlite_runtime)
    now = [1_900_000_000.0]
    node.wall_clock = lambda: now[0]
    claims = StreamClaims(1, 1, "main", "copy", 1, expires_at=int(now[0]) + 60)
    session_id = node.open_hls(admitted(claims))
    # Polled every two seconds, as a player does, through the token's expiry and beyond.
    while now[0] < claims.expires_at + 120 - 2:
        assert node.hls(session_id).admission.ticket == claims
        now[0] += 2
    now[0] += 2
    with pytest.raises(NotFound) as ended:
        node.hls(session_id)
    assert ended.value.code == "hls_session_ended"
    assert session_id not in node.hls_sessions


def test_an_idle_hls_session_ends_as_before(sqlite_runtime) -> None:
    node = camera_gateway_node(sqlite_runtime)
    claims = StreamClaims(1, 1, "main", "copy", 1, expires_at=int(time.time()) + 60)
    session_id = node.open_hls(admitted(claims))
    node.hls_sessions[session_id].seen_at -= 3600  # not polled for an hour
    with pytest.raises(NotFound):
        node.hls(session_id)
