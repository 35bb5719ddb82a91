"""H.264 and H.265 NAL units: their types, and Annex-B byte streams split into them.

One set of constants for the gateway's client (``rtsp.h26x``, ``rtsp.rtp``) and the simulator:
they used to keep their own and disagreed on H.265 IRAP types 22–23.

Encoders hand out access units with start codes (``00 00 01`` or ``00 00 00 01``); RTP and SDP
want bare NAL units. A NAL unit never ends in a zero byte (RBSP trailing bits), so the zero that
precedes a four-byte start code can be stripped safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VideoCodec = Literal["h264", "h265"]
VIDEO_CODECS: tuple[VideoCodec, ...] = ("h264", "h265")

START_CODE = b"\x00\x00\x01"

H264_IDR, H264_SPS, H264_PPS, H264_AUD = 5, 7, 8, 9
H265_VPS, H265_SPS, H265_PPS, H265_AUD = 32, 33, 34, 35
# IRAP pictures, where a decoder can start (H.265 table 7-1): BLA 16–18, IDR 19–20, CRA 21, and
# 22–23 reserved for future IRAP types — a picture of those types is random-access too.
H265_IRAP = range(16, 24)


@dataclass(frozen=True)
class ParameterSets:
    """What a decoder needs before the first picture; the SDP carries them in base64."""

    sps: bytes
    pps: bytes
    vps: bytes | None = None  # H.265 only


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B buffer, without start codes (leading junk is dropped)."""
    units: list[bytes] = []
    position = data.find(START_CODE)
    while position >= 0:
        begin = position + len(START_CODE)
        position = data.find(START_CODE, begin)
        end = len(data) if position < 0 else position
        unit = data[begin:end].rstrip(b"\x00")
        if unit:
            units.append(unit)
    return units


def nal_type(codec: VideoCodec, unit: bytes) -> int:
    if codec == "h264":
        return unit[0] & 0x1F
    return (unit[0] >> 1) & 0x3F


def is_keyframe(codec: VideoCodec, units: list[bytes] | tuple[bytes, ...]) -> bool:
    types = {nal_type(codec, unit) for unit in units}
    if codec == "h264":
        return H264_IDR in types
    return any(kind in H265_IRAP for kind in types)


def find_parameter_sets(codec: VideoCodec, units: list[bytes] | tuple[bytes, ...]) -> ParameterSets:
    """The first SPS/PPS (and VPS) among ``units``; raises if the encoder left one out."""
    found: dict[int, bytes] = {}
    for unit in units:
        found.setdefault(nal_type(codec, unit), unit)
    if codec == "h264":
        wanted = {"sps": H264_SPS, "pps": H264_PPS}
    else:
        wanted = {"vps": H265_VPS, "sps": H265_SPS, "pps": H265_PPS}
    missing = [name for name, kind in wanted.items() if kind not in found]
    if missing:
        raise ValueError(f"{codec} keyframe without {', '.join(missing)}")
    return ParameterSets(
        sps=found[wanted["sps"]],
        pps=found[wanted["pps"]],
        vps=found[H265_VPS] if codec == "h265" else None,
    )
