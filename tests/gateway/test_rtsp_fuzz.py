"""Fuzzing every parser of camera bytes: RTSP responses and interleaved framing, SDP, RTP
depacketization (RFC 6184, RFC 7798) and parameter sets.

Inputs are real-looking camera replies and streams, mutated where a camera goes wrong: header
values and lengths, lines, bytes, packet order, and where the kernel splits the stream into
chunks. The properties: no example runs past a bound (a SIGALRM interrupts a spinning parser),
raises anything but the client's own error, or leaves a buffer beyond its bound. The budget is
fixed and derandomized so the suite stays fast and repeatable in CI.
"""

from __future__ import annotations

import itertools
import re
import signal
import struct
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.rtsp_pull import VideoTrack
from dieuhanh.rtsp import h26x
from dieuhanh.rtsp.client import RtspClient
from dieuhanh.rtsp.errors import RtspError
from dieuhanh.rtsp.framing import (
    BURST_BYTES,
    BURST_ITEMS,
    MAX_BUFFERED_BYTES,
    MAX_PACKET_BYTES,
    Framer,
)
from dieuhanh.rtsp.head import MAX_BODY_BYTES, Response, parse_head
from dieuhanh.rtsp.rtp import MAX_UNIT_NALS, Depacketizer
from dieuhanh.rtsp.sdp import MAX_FRAMERATE, parse_sdp
from dieuhanh.simulator import run_service
from tests.hostile import ScriptedServer, run_bounded

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE_BOUND = 2.0  # seconds; an example takes milliseconds
UNIT_BOUND = 256 * 1024  # the depacketizer's frame bound, lowered so runaway frames cost little


class Hang(Exception):
    """An example ran past its bound: a parser that spins."""


@contextmanager
def bounded(seconds: float = EXAMPLE_BOUND) -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"an example still ran after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- real-looking camera replies -------------------------------------------------------------

# From libx264 and libx265 at 640 x 360.
SPS = bytes.fromhex("6742c01ed900a02ff97011000003000100000300320f162e48")
PPS = bytes.fromhex("68cb83cb20")
H265_SETS = [
    bytes.fromhex("40010c01ffff01600000030090000003000003003f928090"),
    bytes.fromhex("42010101600000030090000003000003003fa0050201696592a4932bc05a020000030002000003003210"),
    bytes.fromhex("4401c172b46240"),
]  # fmt: skip
H264_SDP = (
    "v=0\r\no=- 1109162014219182 1 IN IP4 192.168.1.64\r\ns=Media Presentation\r\nt=0 0\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/\r\n"
    "m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:5000\r\na=recvonly\r\n"
    "a=control:trackID=1\r\na=rtpmap:96 H264/90000\r\n"
    f"a=fmtp:96 profile-level-id=42c01e;packetization-mode=1;sprop-parameter-sets="
    f"{b64encode(SPS).decode()},{b64encode(PPS).decode()}\r\n"
    "a=framerate:25.000000\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=control:trackID=2\r\n"
)
H265_SDP = (
    "v=0\r\ns=Session\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
    f"a=fmtp:98 sprop-vps={b64encode(H265_SETS[0]).decode()}; "
    f"sprop-sps={b64encode(H265_SETS[1]).decode()}; "
    f"sprop-pps={b64encode(H265_SETS[2]).decode()}\r\n"
    "a=control:track0\r\n"
)
REPLIES = [
    ["RTSP/1.0 200 OK", "CSeq: 1", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER"],
    ["RTSP/1.0 401 Unauthorized", "CSeq: 2",
     'WWW-Authenticate: Digest realm="IP Camera", nonce="9a1c2b3d", stale="FALSE"',
     'WWW-Authenticate: Basic realm="IP Camera"'],
    ["RTSP/1.0 200 OK", "CSeq: 3", "Content-Type: application/sdp",
     "Content-Base: rtsp://192.168.1.64:554/Streaming/Channels/101/"],
    ["RTSP/1.0 200 OK", "CSeq: 4", "Session: 1273222592;timeout=60",
     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=5d7a4b1c;mode=\"play\""],
    ["RTSP/1.0 200 OK", "CSeq: 5", "Session: 1273222592",
     "RTP-Info: url=trackID=1;seq=1;rtptime=0"],
]  # fmt: skip


def reply_bytes(lines: list[str], body: bytes) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


STATUS_LINES = ["HTTP/1.1 200 OK", "RTSP/1.0 2000 OK", "RTSP/2 200", "RTSP/1.0 \xb200 OK",
                "RTSP/1.0", "rtsp/1.0 200 OK", "RTSP/1.0 200 OK\nCSeq: 1"]  # fmt: skip
LENGTHS = st.one_of(
    st.integers(min_value=-300, max_value=300).map(str),  # around the sizes of heads and bodies
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.sampled_from(["", " ", "-0", "+3", "0x20", "1e3", "\xb2", "9" * 5000, "12 34", "NaN"]),
    st.text(max_size=12),
)
VALUES = st.one_of(st.text(max_size=40), LENGTHS, st.just("x" * 9000))


@st.composite
def camera_reply(draw: st.DrawFn) -> bytes:
    """A real reply; perhaps a header value replaced, a header added or removed, the body's
    length made to lie."""
    lines = list(draw(st.sampled_from(REPLIES)))
    body = H264_SDP.encode() if draw(st.booleans()) else b""
    length = str(len(body)) if body or draw(st.booleans()) else None
    if draw(st.integers(0, 3)) == 0:
        length = draw(LENGTHS)
    if length is not None:
        lines.append(f"Content-Length: {length}")
    for _ in range(draw(st.integers(0, 2))):
        index = draw(st.integers(1, len(lines) - 1))
        name = lines[index].partition(":")[0]
        action = draw(st.sampled_from(["value", "drop", "duplicate", "raw"]))
        if action == "value":
            lines[index] = f"{name}: {draw(VALUES)}"
        elif action == "drop":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        else:
            lines[index] = draw(st.binary(max_size=60)).decode("latin-1")
        if len(lines) < 2:
            break
    if draw(st.integers(0, 9)) == 0:
        lines[0] = draw(st.sampled_from(STATUS_LINES))
    if draw(st.integers(0, 19)) == 0:
        lines += [f"X-{n}: y" for n in range(draw(st.integers(60, 80)))]
    return reply_bytes(lines, body)


def rtp_packet(sequence: int, timestamp: int, payload: bytes, marker: bool = False) -> bytes:
    flags = (0x80 if marker else 0) | 96
    return struct.pack(">BBHII", 0x80, flags, sequence & 0xFFFF, timestamp, 0x1234) + payload


def interleaved(channel: int, packet: bytes) -> bytes:
    return struct.pack(">cBH", b"$", channel, len(packet)) + packet


ITEMS = st.one_of(
    camera_reply(),
    st.builds(lambda c, p: interleaved(c, p), st.integers(0, 3), st.binary(max_size=300)),
    st.binary(min_size=4, max_size=4).map(lambda head: b"$" + head[1:]),  # a bare length
    st.binary(max_size=80),  # a camera's stray bytes
    st.just(b"$\x00\xff\xff"),  # the largest packet, never finished
)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def drain(framer: Framer) -> None:
    """What the protocol does over turns of the loop: split until nothing complete remains."""
    for _ in range(10_000):
        if not framer.split():
            return
    raise Hang("split() kept reporting more to do")


# -- the RTSP response parser and interleaved framing ----------------------------------------


@FUZZ
@given(items=st.lists(ITEMS, max_size=8), cuts=st.lists(st.integers(0, 10**6), max_size=12))
def test_the_framer_never_hangs_crashes_or_grows(items: list[bytes], cuts: list[int]) -> None:
    responses: list[Response] = []
    packets: list[bytes] = []
    framer = Framer(lambda channel, packet: packets.append(packet), responses.append)
    with bounded():
        try:
            for chunk in chunked(b"".join(items), cuts):
                framer.feed(chunk)
                drain(framer)
                assert len(framer.buffer) <= MAX_BUFFERED_BYTES
        except RtspError as error:
            assert error.reason == "protocol_error" and error.detail
    assert all(len(packet) <= MAX_PACKET_BYTES - 4 for packet in packets)
    assert all(len(response.body) <= MAX_BODY_BYTES for response in responses)


@FUZZ
@given(head=st.one_of(camera_reply().map(lambda b: b.partition(b"\r\n\r\n")[0]), st.binary()))
def test_a_response_head_parses_or_fails_with_the_clients_error(head: bytes) -> None:
    with bounded():
        try:
            response = parse_head(head)
            length = response.content_length()
            response.cseq()
        except RtspError as error:
            assert error.reason == "protocol_error" and error.detail
            return
    assert 100 <= response.status <= 999 and 0 <= length <= MAX_BODY_BYTES


@FUZZ
@given(
    frames=st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=2000)), max_size=40),
    cuts=st.lists(st.integers(0, 10**6), max_size=30),
    extra=st.integers(0, 3),
)
def test_interleaved_frames_come_out_whole_in_order_however_split(
    frames: list[tuple[int, bytes]], cuts: list[int], extra: int
) -> None:
    received: list[tuple[int, bytes]] = []
    framer = Framer(lambda channel, packet: received.append((channel, packet)), lambda r: None)
    # Beyond one burst, so slicing is exercised too.
    frames = frames + [(0, bytes(200))] * (extra * BURST_ITEMS // 2)
    with bounded():
        for chunk in chunked(b"".join(interleaved(c, p) for c, p in frames), cuts):
            framer.feed(chunk)
            drain(framer)
    assert received == frames and framer.buffer == b"" and framer.junk == 0


def test_one_split_hands_out_at_most_one_burst() -> None:
    handed: list[bytes] = []
    framer = Framer(lambda channel, packet: handed.append(packet), lambda r: None)
    framer.feed(b"".join(interleaved(0, bytes(100)) for _ in range(3 * BURST_ITEMS)))
    assert framer.split() and len(handed) == BURST_ITEMS
    framer = Framer(lambda channel, packet: handed.append(packet), lambda r: None)
    handed.clear()
    framer.feed(b"".join(interleaved(0, bytes(60_000)) for _ in range(8)))
    assert framer.split() and len(handed) * 60_004 <= BURST_BYTES + 60_004


# -- the whole client, against a real server answering mutated replies -----------------------


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer([], hold=False)  # closes after its script: no example waits
    with run_service(server) as service:
        yield server, service.url("/cam")


async def _open(url: str) -> str:
    client = RtspClient(url, 5.0, lambda packet: None)
    try:
        await client.open()
    except RtspError as error:
        return error.reason
    finally:
        client.close()
    return "opened"


@settings(FUZZ, max_examples=25, suppress_health_check=list(HealthCheck))
@given(replies=st.lists(camera_reply(), min_size=1, max_size=4))
def test_the_client_over_a_socket_opens_or_fails_with_its_own_error(
    scripted: tuple[ScriptedServer, str], replies: list[bytes]
) -> None:
    server, url = scripted
    # Most answer their request's CSeq; a mutated one may not, which the client must survive.
    server.answers = [
        re.sub(rb"CSeq: [0-9]+", b"CSeq: {cseq}", reply, count=1) for reply in replies
    ]
    reason = run_bounded(_open(url), bound=10)  # anything but RtspError is raised here
    assert reason in ("opened", "protocol_error", "stalled", "unauthorized", "not_found",
                      "no_video", "unsupported_codec")  # fmt: skip


# -- the session description -----------------------------------------------------------------

SDP_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["96", "-1", "²", "9" * 5000, "nan", "inf", "0", "1e999", "-25", "", " "]),
)


@st.composite
def mutated_sdp(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from([H264_SDP, H265_SDP])).split("\r\n")
    for _ in range(draw(st.integers(0, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "field", "drop", "duplicate", "insert"]))
        line = lines[index]
        if action == "value" and "=" in line:
            lines[index] = line[: line.index("=") + 1] + draw(SDP_VALUES)
        elif action == "field" and ":" in line:
            name = line.partition(":")[0]
            fields = line.partition(":")[2].split(" ")
            fields[draw(st.integers(0, len(fields) - 1))] = draw(SDP_VALUES)
            lines[index] = name + ":" + " ".join(fields)
        elif action == "drop":
            del lines[index]
        elif action == "duplicate":
            lines[index:index] = [line] * draw(st.integers(1, 600))
        else:
            lines.insert(index, draw(st.text(max_size=40)))
        if not lines:
            break
    return "\r\n".join(lines)


@FUZZ
@given(text=st.one_of(mutated_sdp(), st.text(max_size=300)))
def test_a_description_parses_or_fails_with_the_clients_error(text: str) -> None:
    with bounded():
        try:
            session = parse_sdp(text)
        except RtspError as error:
            assert error.reason == "protocol_error" and error.detail
            return
        for media in session.media:
            assert -1 <= media.payload_type <= 127
            assert media.framerate is None or 0 < media.framerate <= MAX_FRAMERATE
            sets = media.parameter_sets()
            assert all(0 < len(s) <= h26x.MAX_PARAMETER_SET_BYTES for s in sets)
            if media.codec is not None:
                VideoTrack(media, Hub("sdp"))  # what the pull builds from it


# -- RTP depacketization and parameter sets --------------------------------------------------


def nal_units(codec: str) -> st.SearchStrategy[bytes]:
    if codec == "h264":
        header = st.integers(1, 23).map(lambda kind: bytes([0x60 | kind]))
        known = st.sampled_from([SPS, PPS, b"\x65" + bytes(3000), b"\x41" + bytes(900)])
    else:
        header = st.integers(0, 47).map(lambda kind: bytes([kind << 1, 1]))
        known = st.sampled_from([b"\x26\x01" + bytes(3000), b"\x02\x01" + bytes(500)])
    made = st.tuples(header, st.binary(min_size=1, max_size=1500)).map(lambda t: t[0] + t[1])
    return st.one_of(known, made)


def packetize(codec: str, frames: list[list[bytes]], mtu: int) -> list[bytes]:
    """As a camera sends them: single NAL units, aggregates of small ones, fragments of large."""
    packets: list[bytes] = []
    sequence, size = 0, 1 if codec == "h264" else 2
    for index, nals in enumerate(frames):
        timestamp = index * 3600
        payloads: list[bytes] = []
        small = [nal for nal in nals if len(nal) < 100]
        if len(small) > 1:
            payloads.append((bytes([24]) if codec == "h264" else bytes([96, 1]))
                            + b"".join(struct.pack(">H", len(n)) + n for n in small))  # fmt: skip
        for nal in nals if len(small) <= 1 else [n for n in nals if len(n) >= 100]:
            if len(nal) <= mtu:
                payloads.append(nal)
                continue
            body = nal[size:]
            pieces = [body[i : i + mtu] for i in range(0, len(body), mtu)]
            for number, piece in enumerate(pieces):
                flags = (0x80 if number == 0 else 0) | (0x40 if number == len(pieces) - 1 else 0)
                if codec == "h264":
                    header = bytes([(nal[0] & 0xE0) | 28, flags | (nal[0] & 0x1F)])
                else:
                    header = bytes([(nal[0] & 0x81) | (49 << 1), nal[1], flags | (nal[0] >> 1)])
                payloads.append(header + piece)
        for number, payload in enumerate(payloads):
            packets.append(rtp_packet(sequence, timestamp, payload, number == len(payloads) - 1))
            sequence += 1
    return packets


@st.composite
def camera_packets(draw: st.DrawFn, codec: str) -> list[bytes]:
    frames = draw(st.lists(st.lists(nal_units(codec), min_size=1, max_size=5), max_size=6))
    packets = packetize(codec, frames, draw(st.integers(200, 1400)))
    for _ in range(draw(st.integers(0, 6))):
        if not packets:
            break
        index = draw(st.integers(0, len(packets) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "swap", "flip", "cut", "header"]))
        packet = packets[index]
        if not packet:
            continue
        if action == "drop":
            del packets[index]
        elif action == "duplicate":
            packets.insert(index, packet)
        elif action == "swap" and index:
            packets[index - 1], packets[index] = packet, packets[index - 1]
        elif action == "flip":
            position = draw(st.integers(0, len(packet) - 1))
            packets[index] = packet[:position] + bytes([draw(st.integers(0, 255))]) + packet[
                position + 1 :]  # fmt: skip
        elif action == "cut":
            packets[index] = packet[: draw(st.integers(0, len(packet)))]
        else:  # padding, extension, CSRC count, marker: the first two bytes
            packets[index] = draw(st.binary(min_size=2, max_size=2)) + packet[2:]
    # A runaway frame: fragments that never end, or a flood of tiny aggregated units.
    if draw(st.integers(0, 9)) == 0:
        start = 0x7C if codec == "h264" else 0x62
        piece = bytes([start, 0x85] if codec == "h264" else [start, 1, 0x93]) + bytes(60_000)
        packets += [rtp_packet(60_000 + n, 99, piece) for n in range(6)]
    if draw(st.integers(0, 9)) == 0:
        tiny = (bytes([24]) if codec == "h264" else bytes([96, 1])) + b"\x00\x01\x41" * 20_000
        packets += [rtp_packet(61_000 + n, 77, tiny) for n in range(3)]
    return packets


def _push_all(codec: str, packets: list[bytes]) -> None:
    units: list[tuple[int, list[bytes], bool]] = []
    hub = Hub("fuzz")
    sdp = parse_sdp(H264_SDP if codec == "h264" else H265_SDP)
    assert sdp.video is not None
    track = VideoTrack(sdp.video, hub)

    def on_unit(timestamp: int, nals: list[bytes], damaged: bool) -> None:
        units.append((timestamp, nals, damaged))
        assert sum(map(len, nals)) <= UNIT_BOUND and len(nals) <= MAX_UNIT_NALS
        assert all(nals), "an empty NAL unit handed out"
        try:
            track.unit(timestamp, nals, damaged)
        except RtspError as error:  # the pull ends the session, as for any stream error
            assert error.reason == "protocol_error"

    depacketizer = Depacketizer(codec, 96, on_unit, max_unit_bytes=UNIT_BOUND)
    with bounded():
        for packet in packets:
            depacketizer.push(packet)
            assert depacketizer.unit_bytes <= UNIT_BOUND
            assert len(depacketizer.nals) <= MAX_UNIT_NALS
            fragment = depacketizer.fragment
            assert fragment is None or len(fragment) <= UNIT_BOUND + 2


@FUZZ
@given(packets=camera_packets("h264"))
def test_h264_depacketization_is_bounded_and_raises_nothing(packets: list[bytes]) -> None:
    _push_all("h264", packets)


@FUZZ
@given(packets=camera_packets("h265"))
def test_h265_depacketization_is_bounded_and_raises_nothing(packets: list[bytes]) -> None:
    _push_all("h265", packets)


def _mutated(base: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)), max_size=4)

    def apply(changes: list[tuple[int, int]], cut: int) -> bytes:
        data = bytearray(base)
        for position, value in changes:
            data[position] = value
        return bytes(data[: max(cut, 1)])

    return st.builds(apply, flips, st.integers(1, len(base)))


@FUZZ
@given(sps=st.one_of(_mutated(SPS), st.binary(min_size=1, max_size=64).map(lambda b: b"\x67" + b)))
def test_an_h264_parameter_set_reads_or_is_a_bitstream_error(sps: bytes) -> None:
    with bounded():
        try:
            video = h26x.h264_format(sps, PPS)
        except h26x.BitstreamError:
            return
    assert 0 < video.width <= h26x.MAX_DIMENSION and 0 < video.height <= h26x.MAX_DIMENSION


@FUZZ
@given(sps=st.one_of(_mutated(H265_SETS[1]), st.binary(max_size=64).map(lambda b: b"\x42\x01" + b)))
def test_an_h265_parameter_set_reads_or_is_a_bitstream_error(sps: bytes) -> None:
    with bounded():
        try:
            video = h26x.h265_format(H265_SETS[0], sps, H265_SETS[2])
        except h26x.BitstreamError:
            return
    assert 0 < video.width <= h26x.MAX_DIMENSION and 0 < video.height <= h26x.MAX_DIMENSION
