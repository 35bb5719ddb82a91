"""RTP frames prepared for interleaved TCP (the payloads themselves: ``rtsp.rtp``).

Each clip frame is packetized once into a template: the interleaved packets (``$``, channel,
length, RTP header, payload) laid end to end, with sequence number, timestamp, SSRC and channel
left blank. A session stamps its own values into a copy at a few known offsets and writes the
whole frame at once, so serving hundreds of viewers costs a copy and a write per frame each.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

RTP_VERSION = 0x80

INTERLEAVED = struct.Struct(">cBH")  # "$", channel, length
RTP_HEADER = struct.Struct(">BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
STAMP = struct.Struct(">HII")  # the per-session part of the RTP header


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
