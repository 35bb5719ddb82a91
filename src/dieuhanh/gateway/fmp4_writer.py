"""Writing fragmented MP4 for one video track: the init segment, then one fragment per frame.

What MediaSource and HLS need and nothing more (ISO/IEC 14496-12): an empty ``moov`` with the
decoder configuration, and per frame a ``moof`` (decode time, duration, size, keyframe flag) and
its ``mdat``. A fragment is one ``struct.pack`` and a join: the gateway writes thousands a second.
"""

from __future__ import annotations

import struct

from dieuhanh.gateway.fmp4 import Fragment, InitSegment, parse_init
from dieuhanh.rtsp.h26x import VideoFormat

VIDEO_TIMESCALE = 90000  # RTP's video clock: timestamps pass through unchanged
TRACK_ID = 1
# sample_flags (14496-12 8.8.3.1): a keyframe depends on nothing; other frames are non-sync.
KEYFRAME_FLAGS = 0x02000000
DELTA_FLAGS = 0x01010000
MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
SAMPLE_ENTRIES = {"h264": (b"avc1", b"avcC"), "h265": (b"hvc1", b"hvcC")}

# moof(mfhd, traf(tfhd, tfdt v1, trun with one sample: duration, size, flags)) + mdat header.
_FRAGMENT = struct.Struct(">I4sI4sIII4sI4sIII4sIQI4sIIiIIII4s")
MOOF_SIZE = 8 + 16 + 8 + 16 + 20 + 32


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def init_segment(video: VideoFormat) -> InitSegment:
    entry_kind, config_kind = SAMPLE_ENTRIES[video.codec]
    sample_entry = box(
        entry_kind,
        b"\x00" * 6,
        struct.pack(">H", 1),  # data_reference_index
        b"\x00" * 16,
        struct.pack(">HHIIIH", video.width, video.height, 0x00480000, 0x00480000, 0, 1),
        b"\x00" * 32,  # compressorname
        struct.pack(">Hh", 0x0018, -1),
        box(config_kind, video.config),
    )
    empty_tables = (
        full_box(b"stts", 0, 0, b"\x00" * 4)
        + full_box(b"stsc", 0, 0, b"\x00" * 4)
        + full_box(b"stsz", 0, 0, b"\x00" * 8)
        + full_box(b"stco", 0, 0, b"\x00" * 4)
    )
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry), empty_tables)
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, b"\x00" * 8), dinf, stbl)
    mdia = box(
        b"mdia",
        full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, VIDEO_TIMESCALE, 0, 0x55C4, 0)),
        full_box(b"hdlr", 0, 0, b"\x00" * 4, b"vide", b"\x00" * 12, b"Video\x00"),
        minf,
    )
    tkhd = full_box(
        b"tkhd", 0, 3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, TRACK_ID, 0, 0), b"\x00" * 8,
        struct.pack(">hhhH", 0, 0, 0, 0), MATRIX,
        struct.pack(">II", video.width << 16, video.height << 16),
    )  # fmt: skip
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, 1000, 0), struct.pack(">IH", 0x00010000, 0x0100), b"\x00" * 10,
        MATRIX, b"\x00" * 24, struct.pack(">I", TRACK_ID + 1),
    )  # fmt: skip
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0)))
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 0x200), b"iso5iso6mp41")
    data = ftyp + box(b"moov", mvhd, box(b"trak", tkhd, mdia), mvex)
    return parse_init(data)


def fragment(
    sequence: int, decode_time: int, duration: int, sample: bytes, keyframe: bool
) -> Fragment:
    header = _FRAGMENT.pack(
        MOOF_SIZE, b"moof",
        16, b"mfhd", 0, sequence & 0xFFFFFFFF,
        MOOF_SIZE - 24, b"traf",
        16, b"tfhd", 0x020000, TRACK_ID,  # default-base-is-moof
        20, b"tfdt", 0x01000000, decode_time,
        32, b"trun", 0x000701, 1, MOOF_SIZE + 8, duration, len(sample),
        KEYFRAME_FLAGS if keyframe else DELTA_FLAGS,
        8 + len(sample), b"mdat",
    )  # fmt: skip
    return Fragment(header + sample, keyframe, decode_time, duration)
