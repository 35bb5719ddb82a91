"""RTCP sender reports (RFC 3550 §6.4.1): the wall-clock time of an RTP timestamp.

Cameras send one every few seconds; players use them to line audio up with video and to
timestamp frames with the camera's clock. Each report goes out as a compound packet, SR followed
by an SDES CNAME, as RFC 3550 requires.
"""

from __future__ import annotations

import struct

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
SR, SDES, CNAME = 200, 202, 1
CNAME_TEXT = b"dieuhanh-simulator"


def ntp_timestamp(unix_seconds: float) -> tuple[int, int]:
    """The 64-bit NTP timestamp of a Unix time, as (seconds, fraction of 2**32)."""
    seconds = int(unix_seconds)
    fraction = int((unix_seconds - seconds) * (1 << 32)) & 0xFFFFFFFF
    return (seconds + NTP_EPOCH_OFFSET) & 0xFFFFFFFF, fraction


def sender_report(
    ssrc: int, unix_seconds: float, rtp_timestamp: int, packets: int, octets: int
) -> bytes:
    seconds, fraction = ntp_timestamp(unix_seconds)
    report = struct.pack(
        ">BBHIIIIII",
        0x80,  # version 2, no padding, no reception report blocks
        SR,
        6,  # length in 32-bit words, minus one
        ssrc,
        seconds,
        fraction,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
    return report + _sdes_cname(ssrc)


def _sdes_cname(ssrc: int) -> bytes:
    item = bytes([CNAME, len(CNAME_TEXT)]) + CNAME_TEXT + b"\x00"  # the null ends the item list
    item += bytes(-len(item) % 4)  # chunks end on a 32-bit boundary
    body = struct.pack(">I", ssrc) + item
    return struct.pack(">BBH", 0x81, SDES, len(body) // 4) + body
