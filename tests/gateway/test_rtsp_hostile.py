"""The native RTSP client against hostile servers on loopback: every bad reply fails at once with
an ``RtspError`` naming it, the pull reconnects, and a burst never holds the event loop."""

from __future__ import annotations

import asyncio
import struct

import pytest

from dieuhanh.core.network import NetworkPolicy
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.rtsp_pull import RtspPull, VideoTrack
from dieuhanh.rtsp import h26x
from dieuhanh.rtsp.client import RtspClient, RtspError
from dieuhanh.rtsp.framing import BURST_ITEMS
from dieuhanh.rtsp.rtp import MAX_UNIT_BYTES, Depacketizer
from dieuhanh.rtsp.sdp import parse_sdp
from dieuhanh.simulator import run_service
from tests.conftest import TEST_CAMERA_NETWORKS
from tests.hostile import HttpLoginPage, ScriptedServer, rtsp_reply, run_bounded

LOOPBACK_ALLOWED = NetworkPolicy.of(TEST_CAMERA_NETWORKS)

SDP = b"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
OPTIONS = rtsp_reply("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
DESCRIBE = rtsp_reply("Content-Type: application/sdp", f"Content-Length: {len(SDP)}", body=SDP)


def setup_reply(channels: str = "0-1") -> bytes:
    return rtsp_reply(f"Transport: RTP/AVP/TCP;unicast;interleaved={channels}",
                      "Session: 1234;timeout=60")  # fmt: skip


async def _open(url: str, timeout: float = 30.0) -> RtspError:
    # A long timeout: a reply that is not refused at once would run into the test's bound.
    client = RtspClient(url, timeout, lambda packet: None)
    try:
        await client.open()
    except RtspError as error:
        return error
    finally:
        client.close()
    raise AssertionError("the client accepted the reply")


def open_error(answers: list[bytes]) -> RtspError:
    with run_service(ScriptedServer(answers)) as server:
        return run_bounded(_open(server.url("/cam")), bound=15)


# -- finding 1: a reply's lengths and sizes --------------------------------------------------


@pytest.mark.parametrize(
    "length",
    ["-49", "-1", "99999999999", "65537", "4x", "", "+5", "0x10", "1e3", "\xb23", "9" * 5000],
)
def test_a_bad_content_length_fails_at_once(length: str) -> None:
    reply = f"RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\nContent-Length: {length}\r\n\r\n"
    error = open_error([reply.encode("latin-1") + b"x" * 100])
    assert error.reason == "protocol_error"
    assert "Content-Length" in error.detail or "header line" in error.detail


def test_conflicting_content_lengths_fail() -> None:
    error = open_error([rtsp_reply("Content-Length: 0", "Content-Length: 5", body=b"hello")])
    assert (error.reason, "conflicting Content-Length" in error.detail) == ("protocol_error", True)


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (rtsp_reply(*[f"X-{n}: y" for n in range(65)]), "headers"),
        (rtsp_reply("X-Long: " + "y" * 9000), "header line"),
        (b"RTSP/1.0 200 OK\r\nX-Endless: " + b"y" * 70_000, "head over"),
        (b"RTSP/1.0 2000 OK\r\nCSeq: 1\r\n\r\n", "status line"),
        (b"RTSP/1.0 \xb200 OK\r\nCSeq: 1\r\n\r\n", "status line"),
    ],
)
def test_an_oversized_or_malformed_head_fails_naming_it(answer: bytes, named: str) -> None:
    error = open_error([answer])
    assert error.reason == "protocol_error" and named in error.detail


def test_a_huge_cseq_or_session_timeout_is_not_a_crash() -> None:
    async def open_session(url: str) -> float:
        client = RtspClient(url, 30.0, lambda packet: None)
        try:
            await client.open()
        finally:
            client.close()
        return client.session_timeout

    answers = [
        b"RTSP/1.0 200 OK\r\nCSeq: " + b"9" * 5000 + b"\r\n\r\n",  # taken for the oldest request
        DESCRIBE,
        rtsp_reply("Transport: RTP/AVP/TCP;interleaved=0-1", "Session: 1;timeout=" + "9" * 5000),
    ]
    with run_service(ScriptedServer(answers)) as server:
        assert run_bounded(open_session(server.url("/cam")), bound=15) == 60.0  # the default


def test_the_pull_reconnects_after_a_hostile_reply() -> None:
    async def watch(url: str, server: ScriptedServer) -> tuple[str | None, int]:
        hub = Hub("hostile")
        loop = asyncio.get_running_loop()
        pull = RtspPull(hub, lambda: (url, []), loop, timeout=30.0, policy=LOOPBACK_ALLOWED)
        pull.start()
        for _ in range(400):  # the first reconnect comes after one second
            if server.connections >= 2:
                break
            await asyncio.sleep(0.05)
        pull.stop()
        if pull.stopping is not None:
            await asyncio.gather(pull.stopping, return_exceptions=True)
        return hub.error, pull.state.reconnects

    reply = b"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: -49\r\n\r\n"
    scripted = ScriptedServer([reply])
    with run_service(scripted) as server:
        error, reconnects = run_bounded(watch(server.url("/cam"), scripted), bound=40)
    assert scripted.connections >= 2
    assert error is not None and error.startswith("protocol_error: Content-Length")
    assert reconnects >= 1


# -- finding 2: a web server on the camera's port --------------------------------------------


def test_an_http_answer_fails_at_once_as_protocol_error() -> None:
    with run_service(HttpLoginPage()) as server:
        error = run_bounded(_open(server.url("/cam")), bound=15)
    assert error.reason == "protocol_error"
    assert error.detail.startswith("answered HTTP, not RTSP") and "401" in error.detail


# -- interleaved packets: channels and bursts ------------------------------------------------


def rtp(sequence: int, payload: bytes = b"\x41" + bytes(60)) -> bytes:
    return struct.pack(">BBHII", 0x80, 0x80 | 96, sequence & 0xFFFF, sequence * 3600, 1) + payload


def interleaved(channel: int, packet: bytes) -> bytes:
    return struct.pack(">cBH", b"$", channel, len(packet)) + packet


async def _play(url: str, count: int) -> tuple[list[bytes], list[int], int]:
    """Packets received, packets handed out per slice of the loop, and stray frames."""
    packets: list[bytes] = []
    slices: list[int] = []

    def busy(seconds: float) -> None:
        slices.append(len(packets) - sum(slices))

    client = RtspClient(url, 30.0, packets.append, busy)
    try:
        await client.open()
        await client.play()
        for _ in range(400):
            if len(packets) >= count:
                break
            await asyncio.sleep(0.05)
    finally:
        client.close()
    return packets, slices, client.protocol.other_frames


def test_a_burst_is_handed_out_a_slice_per_turn_of_the_loop() -> None:
    count = 5000
    burst = b"".join(interleaved(0, rtp(n)) for n in range(count))
    play = rtsp_reply("Session: 1234") + burst
    with run_service(ScriptedServer([OPTIONS, DESCRIBE, setup_reply(), play])) as server:
        packets, slices, _ = run_bounded(_play(server.url("/cam"), count), bound=30)
    assert packets == [rtp(n) for n in range(count)]
    assert max(slices) <= BURST_ITEMS  # the rest waited for the next turn


def test_video_comes_on_the_channel_the_camera_chose() -> None:
    packets = [interleaved(6, rtp(n)) + interleaved(0, rtp(100 + n)) for n in range(10)]
    play = rtsp_reply("Session: 1234") + b"".join(packets)
    with run_service(ScriptedServer([OPTIONS, DESCRIBE, setup_reply("6-7"), play])) as server:
        received, _, strays = run_bounded(_play(server.url("/cam"), 10), bound=30)
    assert received == [rtp(n) for n in range(10)] and strays == 10


def test_an_interleaved_channel_beyond_255_fails() -> None:
    error = open_error([OPTIONS, DESCRIBE, setup_reply("1000-1001")])
    assert error.reason == "protocol_error" and "channel 1000" in error.detail


def test_a_session_that_would_break_our_requests_fails() -> None:
    setup = rtsp_reply("Transport: RTP/AVP/TCP;interleaved=0-1", "Session: 12\nX-Injected: 1")
    error = open_error([OPTIONS, DESCRIBE, setup])
    assert error.reason == "protocol_error" and "Session header" in error.detail


# -- reassembly and parameter sets -----------------------------------------------------------


def test_a_fragment_without_end_is_dropped_at_the_bound_and_the_next_frame_is_whole() -> None:
    received: list[tuple[int, list[bytes], bool]] = []
    depacketizer = Depacketizer("h264", 96, lambda ts, nals, bad: received.append((ts, nals, bad)))

    def packet(sequence: int, timestamp: int, payload: bytes, marker: bool = False) -> bytes:
        flags = (0x80 if marker else 0) | 96
        return struct.pack(">BBHII", 0x80, flags, sequence & 0xFFFF, timestamp, 1) + payload

    piece = bytes(60_000)
    sequence = 0
    depacketizer.push(packet(sequence, 1000, bytes([0x7C, 0x85]) + piece))  # FU-A start
    while depacketizer.overflows == 0:
        sequence += 1
        depacketizer.push(packet(sequence, 1000, bytes([0x7C, 0x05]) + piece))  # never ends
        assert depacketizer.unit_bytes <= MAX_UNIT_BYTES
    for _ in range(50):  # the rest of the runaway frame is ignored, not kept
        sequence += 1
        depacketizer.push(packet(sequence, 1000, bytes([0x7C, 0x05]) + piece))
        assert depacketizer.unit_bytes == 0 and depacketizer.nals == []
    nal = b"\x65" + bytes(100)
    depacketizer.push(packet(sequence + 1, 4600, nal, marker=True))
    assert [(ts, bad) for ts, _, bad in received] == [(1000, True), (4600, False)]
    assert received[1][1] == [nal]


def test_an_oversized_parameter_set_fails_the_stream() -> None:
    sdp = parse_sdp("m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n")
    assert sdp.video is not None
    track = VideoTrack(sdp.video, Hub("sets"))
    with pytest.raises(RtspError, match="parameter set of 20001 bytes"):
        track.unit(0, [bytes([h26x.H264_SPS]) + bytes(20_000)], False)


def test_a_picture_size_out_of_range_is_a_bitstream_error() -> None:
    # Baseline SPS whose cropping is larger than the picture: a negative width.
    reader_bits = "1" + "1" + "1" + "1" + "1" + "1" + "010" + "1" + "0" + "1" + "1" + "1"
    crop = "0001010" * 4  # left, right, top, bottom = 9 each
    bits = "01000010" + "0" * 16 + reader_bits + crop + "1"
    bits += "0" * (-len(bits) % 8)
    sps = b"\x67" + int(bits, 2).to_bytes(len(bits) // 8, "big")
    with pytest.raises(h26x.BitstreamError, match="out of range"):
        h26x.h264_format(sps, b"\x68\xce")
