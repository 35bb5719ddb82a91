"""Annex-B byte streams: splitting access units into NAL units and naming what they are.

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

H264_IDR = 5
H264_SPS, H264_PPS = 7, 8
H265_VPS, H265_SPS, H265_PPS = 32, 33, 34
H265_IRAP = range(16, 24)  # BLA, IDR and CRA pictures: a decoder can start there


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
