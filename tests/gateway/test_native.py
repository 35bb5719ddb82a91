"""The native passthrough path piece by piece, on real encoder output: parameter sets read into
picture sizes, RTP packets back into access units, access units into fragmented MP4 that FFmpeg
decodes, and the RTSP client against real and broken servers."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import subprocess
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest

from dieuhanh.gateway.fmp4 import Fragment, InitSegment, SegmentReader
from dieuhanh.gateway.fmp4_writer import fragment, init_segment
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.rtsp_pull import VideoTrack
from dieuhanh.rtsp import h26x
from dieuhanh.rtsp.auth import Credentials
from dieuhanh.rtsp.client import RtspClient, RtspError
from dieuhanh.rtsp.nal import split_annexb
from dieuhanh.rtsp.rtp import Depacketizer
from dieuhanh.rtsp.sdp import parse_sdp, resolve_control
from dieuhanh.simulator import (
    GarbageServer,
    HangServer,
    SimulatedCamera,
    refused_port,
    run_service,
    run_simulator,
    unresolvable_host,
)
from tests.aio import run

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"


def encode(codec: str, width: int, height: int, frames: int = 10, *extra: str) -> bytes:
    """An Annex B elementary stream straight from the encoder."""
    # No B-frames: cameras send frames in presentation order (see docs/cameras-live.md).
    x265 = "log-level=error:keyint=5:bframes=0:scenecut=0"
    encoder = ["-c:v", "libx264", "-bf", "0", "-sc_threshold", "0"] if codec == "h264" else [
        "-c:v", "libx265", "-x265-params", x265]  # fmt: skip
    command = [FFMPEG, "-v", "error", "-f", "lavfi", "-i",
               f"testsrc2=size={width}x{height}:rate=25", "-frames:v", str(frames), *encoder,
               "-g", "5", *extra, "-f", "hevc" if codec == "h265" else "h264", "-"]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout


def access_units(codec: str, stream: bytes) -> list[list[bytes]]:
    """NAL units grouped per frame: a new frame starts at an access unit delimiter or at a
    parameter set / slice that begins a picture (first_slice flag)."""
    frames: list[list[bytes]] = [[]]
    for nal in split_annexb(stream):
        if codec == "h264":
            kind = h26x.h264_type(nal)
            starts = kind in (h26x.H264_AUD, h26x.H264_SPS) or (kind in (1, 5) and nal[1] & 0x80)
        else:
            kind = h26x.h265_type(nal)
            starts = kind in (h26x.H265_AUD, h26x.H265_VPS) or (kind < 32 and nal[2] & 0x80)
        if starts and any(_is_slice(codec, n) for n in frames[-1]):
            frames.append([])
        frames[-1].append(nal)
    return [frame for frame in frames if frame]


def _is_slice(codec: str, nal: bytes) -> bool:
    return h26x.h264_type(nal) in (1, 5) if codec == "h264" else h26x.h265_type(nal) < 32


def parameter_sets(codec: str, stream: bytes) -> dict[int, bytes]:
    kinds = (h26x.H264_SPS, h26x.H264_PPS) if codec == "h264" else (
        h26x.H265_VPS, h26x.H265_SPS, h26x.H265_PPS)  # fmt: skip
    found: dict[int, bytes] = {}
    for nal in split_annexb(stream):
        kind = h26x.h264_type(nal) if codec == "h264" else h26x.h265_type(nal)
        if kind in kinds:
            found.setdefault(kind, nal)
    return found


def video_format(codec: str, stream: bytes) -> h26x.VideoFormat:
    sets = parameter_sets(codec, stream)
    if codec == "h264":
        return h26x.h264_format(sets[h26x.H264_SPS], sets[h26x.H264_PPS])
    return h26x.h265_format(sets[h26x.H265_VPS], sets[h26x.H265_SPS], sets[h26x.H265_PPS])


# -- parameter sets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "width", "height", "extra"),
    [
        ("h264", 1920, 1080, ()),  # coded as 1088 lines: the cropping must be read
        ("h264", 640, 360, ("-profile:v", "baseline")),
        ("h264", 352, 288, ("-pix_fmt", "yuv444p")),  # High 4:4:4: chroma format 3
        ("h264", 1278, 718, ()),  # cropping on both axes
        ("h265", 1920, 1080, ()),
        ("h265", 642, 362, ()),  # a conformance window on both axes
    ],
)
def test_picture_size_is_read_from_the_encoders_parameter_sets(
    codec: str, width: int, height: int, extra: tuple[str, ...]
) -> None:
    video = video_format(codec, encode(codec, width, height, 2, *extra))
    assert (video.codec, video.width, video.height) == (codec, width, height)


def test_a_truncated_parameter_set_is_a_bitstream_error() -> None:
    sets = parameter_sets("h264", encode("h264", 640, 360, 1))
    with pytest.raises(h26x.BitstreamError):
        h26x.h264_format(sets[h26x.H264_SPS][:5], sets[h26x.H264_PPS])
    with pytest.raises(h26x.BitstreamError):
        h26x.h265_format(b"\x40\x01", b"\x42\x01\x01", b"\x44\x01")


# -- fragmented MP4 out ------------------------------------------------------------------------


def sample_of(codec: str, nals: list[bytes]) -> tuple[bytes, bool]:
    """A frame as an MP4 sample (length-prefixed), without its parameter sets."""
    keep, keyframe = [], False
    for nal in nals:
        kind = h26x.h264_type(nal) if codec == "h264" else h26x.h265_type(nal)
        if codec == "h264":
            keyframe |= kind == h26x.H264_IDR
            skip = kind in (h26x.H264_SPS, h26x.H264_PPS, h26x.H264_AUD)
        else:
            keyframe |= kind in h26x.H265_IRAP
            skip = kind in (
                h26x.H265_VPS,
                h26x.H265_SPS,
                h26x.H265_PPS,
                h26x.H265_AUD,
            )
        if not skip and not (codec == "h264" and kind == 6):
            keep.append(struct.pack(">I", len(nal)) + nal)
    return b"".join(keep), keyframe


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_written_fragments_decode_in_ffmpeg(codec: str, tmp_path: Path) -> None:
    stream = encode(codec, 640, 360, 25)
    init = init_segment(video_format(codec, stream))
    assert (init.codec, init.width, init.height, init.timescale) == (codec, 640, 360, 90000)
    assert init.codec_string.startswith("avc1." if codec == "h264" else "hvc1.")
    frames = access_units(codec, stream)
    assert len(frames) == 25
    data = bytearray(init.data)
    for index, nals in enumerate(frames):
        sample, keyframe = sample_of(codec, nals)
        assert keyframe == (index % 5 == 0)
        data += fragment(index + 1, index * 3600, 3600, sample, keyframe).data
    path = tmp_path / f"out-{codec}.mp4"
    path.write_bytes(bytes(data))

    # Our own reader sees what we wrote.
    reader = SegmentReader()
    parsed = list(reader.feed(bytes(data)))
    fragments = [item for item in parsed if isinstance(item, Fragment)]
    assert [f.decode_time for f in fragments] == [i * 3600 for i in range(25)]
    assert any(isinstance(item, InitSegment) for item in parsed)

    probe = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    stream_info = json.loads(probe.stdout)["streams"][0]
    assert stream_info["codec_name"] == ("h264" if codec == "h264" else "hevc")
    assert (stream_info["width"], stream_info["height"]) == (640, 360)
    assert int(stream_info["nb_read_frames"]) == 25
    assert stream_info["r_frame_rate"] == "25/1"
    decoded = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert decoded.returncode == 0 and decoded.stderr == ""


# -- RTP depacketization -----------------------------------------------------------------------


def packetize(codec: str, frames: list[list[bytes]], mtu: int = 1200) -> list[bytes]:
    """RFC 6184 / 7798 non-interleaved mode as a camera sends it: small NAL units aggregated
    (STAP-A / AP), large ones fragmented (FU-A / FU), the marker on each frame's last packet."""
    packets: list[bytes] = []
    sequence = 65530  # wraps during the test
    header_size = 1 if codec == "h264" else 2

    def emit(payload: bytes, timestamp: int, marker: bool) -> None:
        nonlocal sequence
        header = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | 96, sequence & 0xFFFF,
                             timestamp & 0xFFFFFFFF, 0x1234)  # fmt: skip
        packets.append(header + payload)
        sequence += 1

    for index, nals in enumerate(frames):
        timestamp = 0xFFFF0000 + index * 3600  # the RTP clock wraps too
        small = [nal for nal in nals if len(nal) < 200]
        large = [nal for nal in nals if len(nal) >= 200]
        if small:
            aggregate = bytes([24]) if codec == "h264" else bytes([48 << 1, 1])  # STAP-A, AP
            aggregate += b"".join(struct.pack(">H", len(nal)) + nal for nal in small)
            emit(aggregate, timestamp, marker=not large)
        for position, nal in enumerate(large):
            body = nal[header_size:]
            pieces = [body[i : i + mtu] for i in range(0, len(body), mtu)]
            for number, piece in enumerate(pieces):
                start, end = number == 0, number == len(pieces) - 1
                flags = (0x80 if start else 0) | (0x40 if end else 0)
                if codec == "h264":
                    fu = bytes([(nal[0] & 0xE0) | 28, flags | (nal[0] & 0x1F)])
                else:
                    fu = bytes([(nal[0] & 0x81) | (49 << 1), nal[1], flags | h26x.h265_type(nal)])
                last = end and position == len(large) - 1
                emit(fu + piece, timestamp, marker=last)
    return packets


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_depacketized_frames_are_the_encoders_frames(codec: str) -> None:
    frames = access_units(codec, encode(codec, 640, 360, 10))
    received: list[tuple[int, list[bytes], bool]] = []
    depacketizer = Depacketizer(codec, 96, lambda ts, nals, bad: received.append((ts, nals, bad)))
    for packet in packetize(codec, frames):
        depacketizer.push(packet)
    assert len(received) == len(frames)
    for (_, nals, damaged), expected in zip(received, frames, strict=True):
        assert not damaged
        assert sorted(nals) == sorted(expected)
    assert depacketizer.lost_packets == 0


def test_a_lost_packet_damages_only_its_frame() -> None:
    frames = access_units("h264", encode("h264", 640, 360, 10))
    packets = packetize("h264", frames, mtu=300)
    received: list[bool] = []
    depacketizer = Depacketizer("h264", 96, lambda ts, nals, bad: received.append(bad))
    # A middle piece of a fragmented slice: the frame is cut, the next one is whole.
    lost = next(
        index for index, packet in enumerate(packets)
        if index > len(packets) // 2 and packet[12] & 0x1F == 28 and not packet[13] & 0xC0
    )  # fmt: skip
    for index, packet in enumerate(packets):
        if index != lost:
            depacketizer.push(packet)
    assert depacketizer.lost_packets == 1
    assert received.count(True) == 1
    assert len(received) == len(frames)


def test_padding_extensions_and_other_payload_types() -> None:
    received: list[list[bytes]] = []
    depacketizer = Depacketizer("h264", 96, lambda ts, nals, bad: received.append(nals))
    nal = b"\x65" + bytes(range(40))
    # Padding (P bit, last byte = count) and a header extension (X bit, one 32-bit word).
    padded = struct.pack(">BBHII", 0xB0, 0x80 | 96, 1, 1000, 1) + b"\xbe\xde\x00\x01" + b"\x00" * 4
    depacketizer.push(padded + nal + b"\x00\x00\x03")
    depacketizer.push(struct.pack(">BBHII", 0x80, 0x80 | 13, 2, 2000, 1) + b"\x00")  # comfort noise
    depacketizer.push(b"\x80\x60\x00")  # too short to be RTP
    assert received == [[nal]]
    assert depacketizer.ignored_packets == 2


# -- session description -----------------------------------------------------------------------

# A Hikvision camera's answer, with parameter sets from our encoder in place of its own.
HIKVISION_SDP = """v=0
o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64
s=Media Presentation
e=NONE
b=AS:5050
t=0 0
a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
b=AS:5000
a=recvonly
a=x-dimensions:1920,1080
a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast
a=rtpmap:96 H265/90000
a=fmtp:96 sprop-vps={vps}; sprop-sps={sps}; sprop-pps={pps}
a=framerate:25.000000
m=audio 0 RTP/AVP 8
c=IN IP4 0.0.0.0
a=rtpmap:8 PCMA/8000
a=control:trackID=2
"""


def test_a_hikvision_h265_description() -> None:
    sets = parameter_sets("h265", encode("h265", 1920, 1080, 1))
    vps, sps, pps = (b64encode(sets[kind]).decode() for kind in (32, 33, 34))
    sdp = parse_sdp(HIKVISION_SDP.format(vps=vps, sps=sps, pps=pps))
    video = sdp.video
    assert video is not None
    assert (video.codec, video.payload_type, video.clock_rate, video.framerate) == (
        "h265", 96, 90000, 25.0,
    )  # fmt: skip
    sets = video.parameter_sets()
    assert [h26x.h265_type(nal) for nal in sets] == [32, 33, 34]
    assert h26x.h265_format(*sets).width == 1920
    assert [m.kind for m in sdp.media] == ["video", "audio"]
    assert sdp.media[1].encoding == "PCMA" and sdp.media[1].codec is None
    assert resolve_control("rtsp://cam/live", "trackID=2") == "rtsp://cam/live/trackID=2"
    assert resolve_control("rtsp://cam/live", video.control) == video.control
    assert resolve_control("rtsp://cam/live", "*") == "rtsp://cam/live"


def test_a_malformed_sprop_is_skipped_not_fatal() -> None:
    sdp = parse_sdp(
        "v=0\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n"
        "a=fmtp:97 packetization-mode=1;sprop-parameter-sets=Z0IAH5W@@,aM4G4g==\r\n"
    )
    video = sdp.video
    assert video is not None and video.codec == "h264"
    assert video.parameter_sets() == [bytes.fromhex("68ce06e2")]


# -- authentication ----------------------------------------------------------------------------


def test_digest_answer_matches_rfc_2617() -> None:
    credentials = Credentials("Mufasa", "Circle Of Life")
    assert credentials.challenged(
        ['Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"']
    )
    header = credentials.header("GET", "/dir/index.html")
    assert header is not None
    # RFC 2069 compatibility mode (no qop), as most cameras challenge.
    assert 'response="670fd8c2df070c60b045671b8b24ff02"' in header
    basic = Credentials("admin", "Cam@123 !")
    assert basic.challenged(['Basic realm="IP Camera"'])
    assert basic.header("DESCRIBE", "rtsp://cam/") == "Basic YWRtaW46Q2FtQDEyMyAh"
    unknown = Credentials("a", "b")
    assert not unknown.challenged(['Negotiate realm="x"'])


# -- the client against real and broken servers ------------------------------------------------


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    served = [
        SimulatedCamera("/h264", width=320, height=180, fps=10),
        SimulatedCamera("/digest", username="admin", password="Cam@123 !", auth="digest"),
        SimulatedCamera("/basic", username="admin", password="Cam@123 !", auth="basic"),
        SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
        SimulatedCamera("/unsupported", proprietary_video=True),
    ]
    with run_simulator(served, cache_dir=tmp_path_factory.mktemp("native-clips")) as sim:
        yield sim.url("")


async def _first_packets(url: str, count: int = 20) -> tuple[str | None, int]:
    packets: list[bytes] = []
    client = RtspClient(url, 5.0, packets.append)
    try:
        media = await client.open()
        await client.play()
        for _ in range(100):
            if len(packets) >= count:
                break
            await asyncio.sleep(0.05)
    finally:
        client.close()
    return media.codec, len(packets)


@pytest.mark.parametrize("path", ["/h264", "/digest", "/basic"])
def test_the_client_plays_with_and_without_a_login(cameras: str, path: str) -> None:
    url = cameras.replace("rtsp://", "rtsp://admin:Cam%40123%20%21@") + path
    codec, packets = run(_first_packets(url))
    assert codec == "h264" and packets >= 20


def _reason(url: str, timeout: float = 2.0) -> str:
    async def attempt() -> str:
        client = RtspClient(url, timeout, lambda packet: None)
        try:
            await client.open()
        except RtspError as error:
            return error.reason
        finally:
            client.close()
        return "opened"

    return run(attempt())


def test_the_client_names_what_is_wrong(cameras: str) -> None:
    assert _reason(cameras + "/digest") == "unauthorized"
    wrong = cameras.replace("rtsp://", "rtsp://admin:wrong@")
    assert _reason(wrong + "/digest") == "unauthorized"
    assert _reason(cameras + "/nothing-here") == "not_found"
    assert _reason(cameras + "/audio-only") == "no_video"
    assert _reason(cameras + "/unsupported") == "unsupported_codec"
    assert _reason(f"rtsp://127.0.0.1:{refused_port()}/x") == "refused"
    assert _reason(f"rtsp://{unresolvable_host()}/x") == "dns"
    with run_service(GarbageServer()) as garbage:
        assert _reason(garbage.url("/x")) == "protocol_error"
    with run_service(HangServer()) as hanging:
        assert _reason(hanging.url("/x"), timeout=0.5) == "timeout"
    with pytest.raises(RtspError, match="rtsp:// URLs only"):
        RtspClient("http://127.0.0.1/x", 1.0, lambda packet: None)


# -- a track whose picture size changes --------------------------------------------------------


def test_a_new_resolution_sends_a_new_init_segment() -> None:
    hub = Hub("resize")
    published: list[InitSegment | Fragment] = []
    hub.listeners.append(published.append)
    sdp = parse_sdp("m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=framerate:25\n")
    assert sdp.video is not None
    track = VideoTrack(sdp.video, hub)
    timestamp = 0
    for width, height in ((640, 360), (1280, 720)):
        for nals in access_units("h264", encode("h264", width, height, 10)):
            track.unit(timestamp, nals, False)
            timestamp += 3600
    inits = [item for item in published if isinstance(item, InitSegment)]
    assert [(init.width, init.height) for init in inits] == [(640, 360), (1280, 720)]
    # The last small frame is out before the new header, and the first large one is a keyframe.
    assert published.index(inits[1]) == 11
    assert isinstance(published[12], Fragment) and published[12].keyframe
    assert hub.init is not None and (hub.init.width, hub.init.height) == (1280, 720)
    # One frame waits for the next to know its duration: 19 of 20 are out.
    assert track.sequence == 19 and track.dropped_frames == 0


def test_b_frames_are_noticed_for_the_ffmpeg_pull_to_take_over() -> None:
    hub = Hub("b-frames")
    sdp = parse_sdp("m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n")
    assert sdp.video is not None
    track = VideoTrack(sdp.video, hub)
    frames = access_units("h264", encode("h264", 320, 180, 3))
    # Decode order I P B: the B-frame's presentation time lies between the other two.
    for timestamp, nals in zip((0, 7200, 3600), frames, strict=True):
        track.unit(timestamp, nals, False)
    assert track.reordered
    wrapped = VideoTrack(sdp.video, Hub("wrap"))
    for timestamp, nals in zip((0xFFFFF000, 0x00000A10, 0x00004610), frames, strict=True):
        wrapped.unit(timestamp, nals, False)  # the 32-bit clock wrapping is not a step back
    assert not wrapped.reordered and wrapped.elapsed == 0x4610 + 0x1000
