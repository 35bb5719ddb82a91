"""RTP payloads (RFC 6184 H.264, RFC 7798 H.265) and frames prepared for interleaved TCP.

Each clip frame is packetized once into a template: the interleaved packets (``$``, channel,
length, RTP header, payload) laid end to end, with sequence number, timestamp, SSRC and channel
left blank. A session stamps its own values into a copy at a few known offsets and writes the
whole frame at once, so serving hundreds of viewers costs a copy and a write per frame each.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_PAYLOAD = 1400  # keeps every packet under a 1500-byte Ethernet MTU, as cameras do
RTP_VERSION = 0x80
H264_FU_A = 28
H265_FU = 49
FU_START, FU_END = 0x80, 0x40

INTERLEAVED = struct.Struct(">cBH")  # "$", channel, length
RTP_HEADER = struct.Struct(">BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
STAMP = struct.Struct(">HII")  # the per-session part of the RTP header


def packetize_h264(nal_units: Iterable[bytes], max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """Single NAL unit packets, and FU-A fragments for NAL units over ``max_payload``."""
    payloads: list[bytes] = []
    for unit in nal_units:
        if len(unit) <= max_payload:
            payloads.append(unit)
            continue
        indicator = bytes([(unit[0] & 0xE0) | H264_FU_A])
        chunks = _chunks(unit[1:], max_payload - 2)
        for index, chunk in enumerate(chunks):
            flags = _fu_flags(index, len(chunks))
            payloads.append(indicator + bytes([flags | (unit[0] & 0x1F)]) + chunk)
    return payloads


def packetize_h265(nal_units: Iterable[bytes], max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """Single NAL unit packets, and fragmentation units (type 49) for large NAL units."""
    payloads: list[bytes] = []
    for unit in nal_units:
        if len(unit) <= max_payload:
            payloads.append(unit)
            continue
        # The payload header copies the NAL header with its type replaced by 49.
        header = bytes([(unit[0] & 0x81) | (H265_FU << 1), unit[1]])
        kind = (unit[0] >> 1) & 0x3F
        chunks = _chunks(unit[2:], max_payload - 3)
        for index, chunk in enumerate(chunks):
            payloads.append(header + bytes([_fu_flags(index, len(chunks)) | kind]) + chunk)
    return payloads


def packetize_opaque(data: bytes, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """Vendor formats we do not know: plain slices of the frame."""
    return _chunks(data, max_payload)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)] or [b""]


def _fu_flags(index: int, count: int) -> int:
    return (FU_START if index == 0 else 0) | (FU_END if index == count - 1 else 0)


@dataclass(frozen=True)
class RtpFrame:
    """One frame's packets as an interleaved template; see the module docstring."""

    template: bytes
    offsets: tuple[int, ...]  # where each packet's "$" is
    ts_offset: int  # RTP ticks from the start of the loop
    keyframe: bool

    @property
    def packet_count(self) -> int:
        return len(self.offsets)

    @property
    def payload_octets(self) -> int:
        return len(self.template) - self.packet_count * (INTERLEAVED.size + RTP_HEADER.size)


def build_frame(
    payloads: Sequence[bytes], payload_type: int, ts_offset: int, keyframe: bool
) -> RtpFrame:
    """Template for ``payloads``; the marker bit goes on the frame's last packet."""
    parts: list[bytes] = []
    offsets: list[int] = []
    position = 0
    for index, payload in enumerate(payloads):
        marker = 0x80 if index == len(payloads) - 1 else 0
        length = RTP_HEADER.size + len(payload)
        if length > 0xFFFF:
            raise ValueError(f"RTP packet of {length} bytes does not fit interleaved framing")
        parts.append(INTERLEAVED.pack(b"$", 0, length))
        parts.append(RTP_HEADER.pack(RTP_VERSION, marker | payload_type, 0, 0, 0))
        parts.append(payload)
        offsets.append(position)
        position += INTERLEAVED.size + length
    return RtpFrame(b"".join(parts), tuple(offsets), ts_offset, keyframe)


def interleave(channel: int, packet: bytes) -> bytes:
    return INTERLEAVED.pack(b"$", channel, len(packet)) + packet


def stamp(frame: RtpFrame, channel: int, sequence: int, timestamp: int, ssrc: int) -> bytearray:
    """A copy of the frame ready to write; packets take ``sequence``, ``sequence + 1``, …"""
    data = bytearray(frame.template)
    timestamp &= 0xFFFFFFFF
    for index, offset in enumerate(frame.offsets):
        data[offset + 1] = channel
        STAMP.pack_into(data, offset + 6, (sequence + index) & 0xFFFF, timestamp, ssrc)
    return data
