"""Fragmented MP4 as the gateway sees it: an init segment, then media fragments.

The muxer (in-process or a transcoder's stdout) writes ``ftyp`` + ``moov`` once, then one
``moof`` + ``mdat`` pair per frame. This module cuts that byte stream into those pieces and reads
the two facts the gateway needs: whether a fragment starts with a keyframe (a new viewer must
start on one), and the codec string a browser's MediaSource wants ("avc1.4D401E").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

SAMPLE_IS_NON_SYNC = 0x00010000  # ISO/IEC 14496-12 sample_flags: sample_is_non_sync_sample
TFHD_DEFAULT_FLAGS_PRESENT = 0x000020
TRUN_DATA_OFFSET_PRESENT = 0x000001
TRUN_FIRST_SAMPLE_FLAGS_PRESENT = 0x000004
TRUN_SAMPLE_DURATION_PRESENT = 0x000100
TRUN_SAMPLE_SIZE_PRESENT = 0x000200
TRUN_SAMPLE_FLAGS_PRESENT = 0x000400
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"edts"}


@dataclass(frozen=True)
class InitSegment:
    data: bytes
    codec: str  # "h264" or "h265"
    codec_string: str  # for MediaSource: 'video/mp4; codecs="<codec_string>"' (audio included)
    width: int
    height: int
    timescale: int  # ticks per second of the video track (mdhd)
    video_track: int = 1
    timescales: dict[int, int] = field(default_factory=dict)  # every track's, by track id


@dataclass(frozen=True)
class Fragment:
    data: bytes
    keyframe: bool
    decode_time: int  # of the video track, in its timescale (tfdt); -1: no video in it
    duration: int  # of the video samples, in the video track's timescale


class BoxSplitter:
    """Feed bytes as they come; get whole top-level boxes back."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[bytes, bytes]]:
        self._buffer += data
        while len(self._buffer) >= 8:
            size, kind = struct.unpack_from(">I4s", self._buffer)
            header = 8
            if size == 1:  # a 64-bit size follows
                if len(self._buffer) < 16:
                    return
                size = struct.unpack_from(">Q", self._buffer, 8)[0]
                header = 16
            if size < header:
                raise ValueError(f"invalid MP4 box size {size} for {kind!r}")
            if len(self._buffer) < size:
                return
            box = bytes(self._buffer[:size])
            del self._buffer[:size]
            yield kind, box


class SegmentReader:
    """Turns the muxer's byte stream into an InitSegment and Fragments."""

    def __init__(self) -> None:
        self._splitter = BoxSplitter()
        self._init_parts: list[bytes] = []
        self._moof: bytes | None = None
        self.init: InitSegment | None = None

    def feed(self, data: bytes) -> Iterator[InitSegment | Fragment]:
        for kind, box in self._splitter.feed(data):
            if kind == b"ftyp":
                self._init_parts = [box]
                self.init = None
            elif kind == b"moov":
                self._init_parts.append(box)
                self.init = parse_init(b"".join(self._init_parts))
                yield self.init
            elif kind == b"moof":
                self._moof = box
            elif kind == b"mdat" and self._moof is not None:
                video = self.init.video_track if self.init is not None else 1
                yield parse_fragment(self._moof + box, self._moof, video)
                self._moof = None
            # Other top-level boxes (free, sidx, mfra) carry nothing a live viewer needs.


def children(box: bytes, offset: int = 8) -> Iterator[tuple[bytes, bytes]]:
    position = offset
    while position + 8 <= len(box):
        size, kind = struct.unpack_from(">I4s", box, position)
        if size < 8 or position + size > len(box):
            return
        yield kind, box[position : position + size]
        position += size


def find(box: bytes, path: list[bytes], offset: int = 8) -> bytes | None:
    """The first box along ``path`` inside ``box`` (``offset``: where children start)."""
    for kind, child in children(box, offset):
        if kind == path[0]:
            if len(path) == 1:
                return child
            return find(child, path[1:])
    return None


def parse_fragment(data: bytes, moof: bytes, video_track: int = 1) -> Fragment:
    trafs = [traf for kind, traf in children(moof) if kind == b"traf"]
    if not trafs:
        raise ValueError("moof without traf")
    traf = next((t for t in trafs if _track_id(t) == video_track), None)
    if traf is None:  # audio alone (a transcoder interleaving AAC)
        return Fragment(data=data, keyframe=False, decode_time=-1, duration=0)
    tfhd, trun, tfdt = find(traf, [b"tfhd"]), find(traf, [b"trun"]), find(traf, [b"tfdt"])
    default_flags = 0
    default_duration = 0
    if tfhd is not None:
        flags = int.from_bytes(tfhd[9:12], "big")
        position = 16  # header(8) + version/flags(4) + track_ID(4)
        for bit, width in ((0x01, 8), (0x02, 4)):  # base_data_offset, sample_description_index
            if flags & bit:
                position += width
        if flags & 0x08:  # default_sample_duration
            default_duration = struct.unpack_from(">I", tfhd, position)[0]
            position += 4
        if flags & 0x10:  # default_sample_size
            position += 4
        if flags & TFHD_DEFAULT_FLAGS_PRESENT:
            default_flags = struct.unpack_from(">I", tfhd, position)[0]
    keyframe, duration = _first_sample(trun, default_flags, default_duration)
    decode_time = 0
    if tfdt is not None:
        version = tfdt[8]
        decode_time = struct.unpack_from(">Q" if version == 1 else ">I", tfdt, 12)[0]
    return Fragment(data=data, keyframe=keyframe, decode_time=decode_time, duration=duration)


def _first_sample(
    trun: bytes | None, default_flags: int, default_duration: int
) -> tuple[bool, int]:
    if trun is None:
        return not default_flags & SAMPLE_IS_NON_SYNC, 0
    flags = int.from_bytes(trun[9:12], "big")
    count = struct.unpack_from(">I", trun, 12)[0]
    position = 16
    if flags & TRUN_DATA_OFFSET_PRESENT:
        position += 4
    first_flags = default_flags
    if flags & TRUN_FIRST_SAMPLE_FLAGS_PRESENT:
        first_flags = struct.unpack_from(">I", trun, position)[0]
        position += 4
    per_sample = sum(
        4 for bit in (TRUN_SAMPLE_DURATION_PRESENT, TRUN_SAMPLE_SIZE_PRESENT,
                      TRUN_SAMPLE_FLAGS_PRESENT, 0x000800) if flags & bit
    )  # fmt: skip
    duration = 0
    for index in range(count):
        sample = position + index * per_sample
        if flags & TRUN_SAMPLE_DURATION_PRESENT:
            duration += struct.unpack_from(">I", trun, sample)[0]
        else:
            duration += default_duration
        if index == 0 and flags & TRUN_SAMPLE_FLAGS_PRESENT:
            offset = sample + 4 * bool(flags & TRUN_SAMPLE_DURATION_PRESENT)
            offset += 4 * bool(flags & TRUN_SAMPLE_SIZE_PRESENT)
            first_flags = struct.unpack_from(">I", trun, offset)[0]
    return not first_flags & SAMPLE_IS_NON_SYNC, duration


def _track_id(traf: bytes) -> int:
    tfhd = find(traf, [b"tfhd"])
    return int(struct.unpack_from(">I", tfhd, 12)[0]) if tfhd is not None else 1


def parse_init(data: bytes) -> InitSegment:
    moov = next((box for kind, box in children(data, 0) if kind == b"moov"), None)
    if moov is None:
        raise ValueError("init segment without moov")
    video: InitSegment | None = None
    timescales: dict[int, int] = {}
    audio_codecs: list[str] = []
    for kind, trak in children(moov):
        if kind != b"trak":
            continue
        tkhd = find(trak, [b"tkhd"])
        # tkhd v0: version/flags(4) creation(4) modification(4) track_ID(4); v1: 8-byte times.
        track = int(struct.unpack_from(">I", tkhd, 28 if tkhd[8] == 1 else 20)[0]) if tkhd else 1
        timescales[track] = _timescale(trak)
        stsd = find(trak, [b"mdia", b"minf", b"stbl", b"stsd"])
        # stsd: header(8) + version/flags(4) + entry_count(4), then the sample entries.
        for entry_kind, entry in children(stsd, 16) if stsd is not None else ():
            if entry_kind in (b"avc1", b"avc3", b"hvc1", b"hev1") and video is None:
                video = _video_init(data, entry_kind, entry, timescales[track], track)
            elif entry_kind == b"mp4a":
                audio_codecs.append("mp4a.40.2")  # AAC-LC, what the transcoder writes
    if video is None:
        raise ValueError("init segment without an H.264 or H.265 video track")
    codec_string = ", ".join([video.codec_string, *audio_codecs])
    return replace(video, codec_string=codec_string, timescales=timescales)


def _timescale(trak: bytes) -> int:
    mdhd = find(trak, [b"mdia", b"mdhd"])
    if mdhd is None:
        return 90000
    # mdhd v0: version/flags(4) creation(4) modification(4) timescale(4); v1: 8-byte times.
    return int(struct.unpack_from(">I", mdhd, 28 if mdhd[8] == 1 else 20)[0])


def _video_init(data: bytes, kind: bytes, entry: bytes, timescale: int, track: int) -> InitSegment:
    width, height = struct.unpack_from(">HH", entry, 32)
    # Visual sample entry: 8 header + 78 bytes of fields, then its child boxes (avcC, hvcC, …).
    if kind in (b"avc1", b"avc3"):
        config = find(entry, [b"avcC"], 86)
        codec_string = f"{kind.decode()}.{config[9:12].hex().upper()}" if config else "avc1.42E01E"
        return InitSegment(data, "h264", codec_string, width, height, timescale, track)
    config = find(entry, [b"hvcC"], 86)
    codec_string = _hevc_codec_string(kind.decode(), config)
    return InitSegment(data, "h265", codec_string, width, height, timescale, track)


def shifted(fragment: Fragment, shift: int, init: InitSegment) -> Fragment:
    """The same fragment moved on the timeline by ``shift`` video ticks (every track's tfdt
    rewritten in its own timescale), so that a stream restarted after a reconnect continues where
    it stopped instead of jumping back to zero."""
    data = bytearray(fragment.data)
    moof_size = struct.unpack_from(">I", data, 0)[0]
    moof = bytes(data[:moof_size])
    for kind, traf_start, traf in _children_at(moof, 8):
        if kind != b"traf":
            continue
        scale = init.timescales.get(_track_id(traf), init.timescale)
        track_shift = shift * scale // init.timescale
        for child_kind, child_start, _ in _children_at(traf, 8):
            if child_kind == b"tfdt":
                _add_to_tfdt(data, traf_start + child_start, track_shift)
    decode_time = fragment.decode_time + shift if fragment.decode_time >= 0 else -1
    return Fragment(bytes(data), fragment.keyframe, decode_time, fragment.duration)


def _add_to_tfdt(data: bytearray, position: int, shift: int) -> None:
    if data[position + 8] == 1:
        value = struct.unpack_from(">Q", data, position + 12)[0] + shift
        struct.pack_into(">Q", data, position + 12, max(0, value))
    else:
        value = struct.unpack_from(">I", data, position + 12)[0] + shift
        struct.pack_into(">I", data, position + 12, min(max(0, value), 0xFFFFFFFF))


def _children_at(box: bytes, offset: int) -> Iterator[tuple[bytes, int, bytes]]:
    position = offset
    while position + 8 <= len(box):
        size, kind = struct.unpack_from(">I4s", box, position)
        if size < 8 or position + size > len(box):
            return
        yield kind, position, box[position : position + size]
        position += size


def _hevc_codec_string(kind: str, config: bytes | None) -> str:
    """RFC 6381 / ISO 14496-15 E.3: hvc1.<profile>.<compat reversed>.<tier><level>.<constraints>."""
    if config is None:
        return f"{kind}.1.6.L93.B0"
    body = config[8:]
    profile_space = (body[1] >> 6) & 0x3
    tier = "H" if (body[1] >> 5) & 0x1 else "L"
    profile = body[1] & 0x1F
    compatibility = int.from_bytes(body[2:6], "big")
    reversed_bits = int(f"{compatibility:032b}"[::-1], 2)
    constraints = body[6:12].rstrip(b"\x00")
    level = body[12]
    space = "ABC"[profile_space - 1] if profile_space else ""
    parts = [kind, f"{space}{profile}", f"{reversed_bits:X}", f"{tier}{level}"]
    parts += [f"{byte:X}" for byte in constraints] or ["B0"]
    return ".".join(parts)
