"""The gateway's client and the simulator speak one RTSP package (``dieuhanh.rtsp``): the same
NAL types, the same digest computation, the same RTP payload format."""

from __future__ import annotations

import pytest

from dieuhanh.rtsp import h26x, nal
from dieuhanh.rtsp.auth import Credentials
from dieuhanh.rtsp.rtp import Depacketizer, packetize_h264, packetize_h265
from dieuhanh.simulator.auth import REALM, Authenticator


@pytest.mark.parametrize("kind", range(64))
def test_both_sides_agree_on_h265_keyframes(kind: int) -> None:
    unit = bytes([kind << 1, 1, 0xAF])
    gateway_says = h26x.h265_type(unit) in h26x.H265_IRAP
    assert gateway_says == nal.is_keyframe("h265", [unit]) == (16 <= kind <= 23)


@pytest.mark.parametrize("qop", [None, "auth"])
def test_the_simulator_accepts_the_clients_digest(qop: str | None) -> None:
    camera = Authenticator("admin", "mật khẩu", "digest", Authenticator.new_nonce())
    challenge = f'Digest realm="{REALM}", nonce="{camera.nonce}", algorithm="MD5"'
    if qop:
        challenge += f', qop="{qop}"'
    client = Credentials("admin", "mật khẩu")
    assert client.challenged([challenge])
    answer = client.header("DESCRIBE", "rtsp://127.0.0.1/h264")
    assert answer is not None and camera.accepts("DESCRIBE", answer)
    wrong = Credentials("admin", "sai")
    wrong.challenged([challenge])
    assert not camera.accepts("DESCRIBE", wrong.header("DESCRIBE", "rtsp://127.0.0.1/h264"))


@pytest.mark.parametrize(
    ("codec", "packetize", "header"),
    [("h264", packetize_h264, b"\x65"), ("h265", packetize_h265, b"\x26\x01")],
)
def test_what_the_simulator_packetizes_the_client_puts_back(codec, packetize, header) -> None:
    units = [header + bytes(range(256)) * 30, header + b"\x01\x02"]  # one fragmented, one not
    frames: list[list[bytes]] = []
    depacketizer = Depacketizer(codec, 96, lambda _ts, got, damaged: frames.append(got))
    payloads = packetize(units, max_payload=1000)
    for sequence, payload in enumerate(payloads):
        marker = 0x80 if sequence == len(payloads) - 1 else 0
        rtp = bytes([0x80, marker | 96]) + sequence.to_bytes(2, "big") + bytes(8) + payload
        depacketizer.push(rtp)
    assert frames == [units]
