"""RTP payloads of video: RFC 6184 (H.264) and RFC 7798 (H.265), both ways.

Packetizing (what the simulator sends) and depacketizing (what the gateway's client reads) share
one set of payload types and fragment flags.

A frame ends at the RTP marker bit, or when the timestamp changes for cameras that forget it.
A lost packet (a gap in sequence numbers) or a fragment without its start marks the frame as
damaged: the caller drops frames until the next keyframe rather than show a smeared picture.

A frame is bounded (``MAX_UNIT_BYTES``, ``MAX_UNIT_NALS``): a camera that never sets the marker
nor changes the timestamp, or fragments without end, makes the frame overflow; it is dropped as
damaged and the depacketizer resyncs at the next timestamp, never holding more than the bound.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

H264_STAP_A, H264_FU_A = 24, 28
H265_AP, H265_FU = 48, 49
FU_START, FU_END = 0x80, 0x40
MAX_PAYLOAD = 1400  # keeps every packet under a 1500-byte Ethernet MTU, as cameras do
_SEQUENCE_TIMESTAMP = struct.Struct(">HI")
_SIZE = struct.Struct(">H")
MAX_UNIT_BYTES = 8 * 1024 * 1024  # a 4K keyframe at a high bitrate is one or two MB
MAX_UNIT_NALS = 1024  # slices, SEI and parameter sets of one frame; cameras send a handful

# timestamp, NAL units, damaged
UnitHandler = Callable[[int, list[bytes], bool], None]


class Depacketizer:
    def __init__(
        self,
        codec: str,
        payload_type: int,
        on_unit: UnitHandler,
        max_unit_bytes: int = MAX_UNIT_BYTES,
    ) -> None:
        if codec not in ("h264", "h265"):
            raise ValueError(f"cannot depacketize {codec}")
        self.h265 = codec == "h265"
        self.payload_type = payload_type
        self.on_unit = on_unit
        self.max_unit_bytes = max_unit_bytes
        self.nals: list[bytes] = []
        self.fragment: bytearray | None = None
        self.timestamp: int | None = None
        self.sequence: int | None = None
        self.damaged = False
        self.unit_bytes = 0  # NAL units and fragment of the frame being put together
        self.overflowing = False  # the frame went over the bounds: dropped until the next one
        self.lost_packets = 0
        self.ignored_packets = 0
        self.overflows = 0

    def push(self, packet: bytes) -> None:
        if len(packet) < 12 or packet[0] >> 6 != 2:
            self.ignored_packets += 1
            return
        first, second = packet[0], packet[1]
        if second & 0x7F != self.payload_type and self.payload_type >= 0:
            self.ignored_packets += 1  # comfort noise, FEC, another stream: not our video
            return
        sequence, timestamp = _SEQUENCE_TIMESTAMP.unpack_from(packet, 2)
        start = 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
            if len(packet) < start + 4:
                self.ignored_packets += 1
                return
            start += 4 + 4 * _SIZE.unpack_from(packet, start + 2)[0]
        end = len(packet) - (packet[-1] if first & 0x20 else 0)  # padding
        if self.sequence is not None and sequence != (self.sequence + 1) & 0xFFFF:
            self.lost_packets += (sequence - self.sequence - 1) & 0xFFFF
            self.damaged = True
            self.fragment = None
        self.sequence = sequence
        if timestamp != self.timestamp:
            if self.nals or self.fragment is not None or self.overflowing:
                self._finish()
            self.timestamp = timestamp
        if start < end and not self.overflowing:
            payload = packet[start:end]
            if self.h265:
                self._h265(payload)
            else:
                self._h264(payload)
        if second & 0x80:
            self._finish()

    def _h264(self, payload: bytes) -> None:
        kind = payload[0] & 0x1F
        if 0 < kind < 24:
            self._add(payload)
        elif kind == H264_STAP_A:
            self._aggregate(payload, 1)
        elif kind == H264_FU_A and len(payload) > 2:
            header = payload[1]
            self._fragment(header, bytes([(payload[0] & 0xE0) | (header & 0x1F)]), payload, 2)
        else:
            self.ignored_packets += 1  # STAP-B, MTAP, FU-B: interleaved modes cameras do not use

    def _h265(self, payload: bytes) -> None:
        if len(payload) < 3:
            self.ignored_packets += 1
            return
        kind = (payload[0] >> 1) & 0x3F
        if kind < H265_AP:
            self._add(payload)
        elif kind == H265_AP:
            self._aggregate(payload, 2)
        elif kind == H265_FU:
            header = payload[2]
            nal_header = bytes([(payload[0] & 0x81) | ((header & 0x3F) << 1), payload[1]])
            self._fragment(header, nal_header, payload, 3)
        else:
            self.ignored_packets += 1  # PACI

    def _aggregate(self, payload: bytes, position: int) -> None:
        while position + 2 <= len(payload):
            size = _SIZE.unpack_from(payload, position)[0]
            position += 2
            if size == 0 or position + size > len(payload):
                self.damaged = True
                return
            if not self._add(payload[position : position + size]):
                return
            position += size

    def _fragment(self, header: int, nal_header: bytes, payload: bytes, skip: int) -> None:
        if header & FU_START:
            if self.fragment is not None:
                self.damaged = True  # the previous one never ended
            self.fragment = bytearray(nal_header)
        elif self.fragment is None:
            self.damaged = True  # its start was lost
            return
        if not self._count(len(payload) - skip, 0):
            return
        self.fragment += payload[skip:]
        if header & FU_END and self.fragment is not None:
            nal, self.fragment = bytes(self.fragment), None
            if self._count(len(nal_header), 1):
                self.nals.append(nal)

    def _add(self, nal: bytes) -> bool:
        if not self._count(len(nal), 1):
            return False
        self.nals.append(nal)
        return True

    def _count(self, size: int, nals: int) -> bool:
        """Whether the frame stays within its bounds with ``size`` more bytes; if not, it is
        dropped, and the rest of its packets with it."""
        self.unit_bytes += size
        if self.unit_bytes <= self.max_unit_bytes and len(self.nals) + nals <= MAX_UNIT_NALS:
            return True
        self.overflows += 1
        self.overflowing, self.damaged = True, True
        self.nals, self.fragment, self.unit_bytes = [], None, 0
        return False

    def _finish(self) -> None:
        if self.fragment is not None:
            self.damaged = True  # a frame cut short
            self.fragment = None
        nals, damaged, overflowed = self.nals, self.damaged, self.overflowing
        self.nals, self.damaged, self.unit_bytes, self.overflowing = [], False, 0, False
        # An overflowed frame kept nothing, but its loss still counts: a damaged frame.
        if (nals or overflowed) and self.timestamp is not None:
            self.on_unit(self.timestamp, nals, damaged)


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
