"""What the gateway must know of H.264 and H.265 to put a camera's stream into MP4 untouched.

NAL unit types, keyframes, and the parameter sets: from the sequence parameter set, the picture
size (for the MP4 track) and the fields of the decoder configuration record (``avcC`` / ``hvcC``)
that MediaSource reads its codec string from. Nothing here decodes pictures.

References: ITU-T H.264 7.3.2.1 and H.265 7.3.2.2 (SPS syntax), ISO/IEC 14496-15 5.3.3 and 8.3.3
(decoder configuration records).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dieuhanh.rtsp.nal import (
    H264_AUD,
    H264_IDR,
    H264_PPS,
    H264_SPS,
    H265_AUD,
    H265_IRAP,
    H265_PPS,
    H265_SPS,
    H265_VPS,
)

# The NAL types are re-exported: the gateway reads them through this module.
__all__ = [
    "H264_AUD",
    "H264_HIGH_PROFILES",
    "H264_IDR",
    "H264_PPS",
    "H264_SPS",
    "H265_AUD",
    "H265_IRAP",
    "H265_PPS",
    "H265_SPS",
    "H265_VPS",
    "MAX_DIMENSION",
    "MAX_PARAMETER_SET_BYTES",
    "BitReader",
    "BitstreamError",
    "VideoFormat",
    "h264_format",
    "h264_type",
    "h265_format",
    "h265_type",
    "unescape",
]

# High profiles whose SPS carries chroma format and bit depths (H.264 7.3.2.1.1).
H264_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
MAX_DIMENSION = 16384  # H.265's largest level codes 8192 x 4320; beyond is a malformed set
MAX_PARAMETER_SET_BYTES = 16 * 1024  # tens of bytes in practice; avcC/hvcC allow 64 KiB


class BitstreamError(ValueError):
    """A parameter set too short or malformed to read."""


def h264_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def h265_type(nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F


def unescape(nal: bytes) -> bytes:
    """The RBSP: emulation-prevention bytes (00 00 03) removed."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0  # in bits

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            index = self.position >> 3
            if index >= len(self.data):
                raise BitstreamError("parameter set ends early")
            value = (value << 1) | ((self.data[index] >> (7 - (self.position & 7))) & 1)
            self.position += 1
        return value

    def flag(self) -> bool:
        return bool(self.bits(1))

    def ue(self) -> int:
        """Unsigned Exp-Golomb."""
        zeros = 0
        while not self.bits(1):
            zeros += 1
            if zeros > 31:
                raise BitstreamError("Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


@dataclass(frozen=True)
class VideoFormat:
    """What the MP4 track needs from a set of parameter sets."""

    codec: str  # h264, h265
    width: int
    height: int
    config: bytes  # the avcC or hvcC record, without its box header


def h264_format(sps: bytes, pps: bytes) -> VideoFormat:
    reader = BitReader(unescape(sps[1:]))
    profile = reader.bits(8)
    reader.bits(16)  # constraint flags, level
    reader.ue()  # seq_parameter_set_id
    chroma_format, depth_luma, depth_chroma, separate_planes = 1, 0, 0, False
    if profile in H264_HIGH_PROFILES:
        chroma_format = reader.ue()
        if chroma_format == 3:
            separate_planes = reader.flag()
        depth_luma, depth_chroma = reader.ue(), reader.ue()
        reader.flag()  # qpprime_y_zero_transform_bypass
        if reader.flag():  # seq_scaling_matrix_present
            for index in range(8 if chroma_format != 3 else 12):
                if reader.flag():
                    _skip_scaling_list(reader, 16 if index < 6 else 64)
    reader.ue()  # log2_max_frame_num_minus4
    order_type = reader.ue()
    if order_type == 0:
        reader.ue()
    elif order_type == 1:
        reader.flag()
        reader.se()
        reader.se()
        for _ in range(reader.ue()):
            reader.se()
    reader.ue()  # max_num_ref_frames
    reader.flag()  # gaps_in_frame_num_value_allowed
    width_mbs, height_units = reader.ue() + 1, reader.ue() + 1
    frame_mbs_only = reader.flag()
    if not frame_mbs_only:
        reader.flag()  # mb_adaptive_frame_field
    reader.flag()  # direct_8x8_inference
    width, height = width_mbs * 16, (2 - frame_mbs_only) * height_units * 16
    if reader.flag():  # frame_cropping
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        if chroma_format == 0 or separate_planes:
            unit_x, unit_y = 1, 2 - frame_mbs_only
        else:
            unit_x = 1 if chroma_format == 3 else 2
            unit_y = (2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    _check_size(width, height)
    config = bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + _sized(sps) + b"\x01" + _sized(pps)
    if profile in (100, 110, 122, 144):
        config += bytes([0xFC | chroma_format, 0xF8 | depth_luma, 0xF8 | depth_chroma, 0])
    return VideoFormat("h264", width, height, config)


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last


def h265_format(vps: bytes, sps: bytes, pps: bytes) -> VideoFormat:
    rbsp = unescape(sps[2:])
    if len(rbsp) < 13:
        raise BitstreamError("H.265 SPS too short")
    reader = BitReader(rbsp)
    reader.bits(4)  # sps_video_parameter_set_id
    sub_layers = reader.bits(3)  # sps_max_sub_layers_minus1
    nested = reader.bits(1)
    general = rbsp[1:13]  # profile space, tier, profile, compatibility, constraints, level
    reader.position = 8 + 12 * 8
    profile_present, level_present = [], []
    for _ in range(sub_layers):
        profile_present.append(reader.flag())
        level_present.append(reader.flag())
    if sub_layers:
        reader.bits(2 * (8 - sub_layers))  # reserved_zero_2bits
    for index in range(sub_layers):
        reader.bits(88 * profile_present[index] + 8 * level_present[index])
    reader.ue()  # sps_seq_parameter_set_id
    chroma_format = reader.ue()
    if chroma_format == 3:
        reader.flag()  # separate_colour_plane
    width, height = reader.ue(), reader.ue()
    if reader.flag():  # conformance_window
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        unit_x = 2 if chroma_format in (1, 2) else 1
        unit_y = 2 if chroma_format == 1 else 1
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    depth_luma, depth_chroma = reader.ue(), reader.ue()
    _check_size(width, height)
    config = (
        b"\x01"
        + general
        + struct.pack(
            ">HBBBBHB",
            0xF000,  # reserved, min_spatial_segmentation_idc 0
            0xFC,  # reserved, parallelismType unknown
            0xFC | chroma_format,
            0xF8 | depth_luma,
            0xF8 | depth_chroma,
            0,  # avgFrameRate unknown
            ((sub_layers + 1) << 3) | (nested << 2) | 3,  # 4-byte NAL lengths
        )
        + b"\x03"
        + b"".join(
            bytes([0x80 | kind]) + b"\x00\x01" + _sized(nal)
            for kind, nal in ((H265_VPS, vps), (H265_SPS, sps), (H265_PPS, pps))
        )
    )
    return VideoFormat("h265", width, height, config)


def _check_size(width: int, height: int) -> None:
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise BitstreamError(f"picture size {width}x{height} out of range")


def _sized(nal: bytes) -> bytes:
    if len(nal) > MAX_PARAMETER_SET_BYTES:
        raise BitstreamError(f"a parameter set of {len(nal)} bytes")
    return struct.pack(">H", len(nal)) + nal
