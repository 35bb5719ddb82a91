"""Camera audio: a short beep once a second, then silence, as G.711 µ-law or AAC.

A beep rather than silence only: a client that plays or meters the track sees it is alive. G.711
is encoded here in Python (``audioop`` is deprecated and gone in Python 3.13); AAC goes through
FFmpeg's native encoder, which ships with PyAV.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
from av.audio.frame import AudioFrame

PCMU_RATE = 8000
PCMU_PACKET = 160  # samples: 20 ms, the usual G.711 packet time
AAC_RATE = 16000
AAC_FRAME = 1024  # samples per AAC-LC access unit
BEEP_HZ, BEEP_SECONDS, BEEP_LEVEL = 1000, 0.25, 0.3
ULAW_BIAS, ULAW_CLIP = 0x84, 32635


def beep_samples(rate: int, count: int) -> list[float]:
    """``count`` samples at ``rate`` Hz of the beep pattern, in -1..1."""
    beep = int(rate * BEEP_SECONDS)
    return [
        BEEP_LEVEL * math.sin(2 * math.pi * BEEP_HZ * n / rate) if n % rate < beep else 0.0
        for n in range(count)
    ]


def ulaw(sample: int) -> int:
    """ITU-T G.711 µ-law code of a signed 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), ULAW_CLIP) + ULAW_BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def pcmu_packets(seconds: int = 1) -> list[bytes]:
    """20 ms µ-law payloads covering ``seconds`` of the beep pattern."""
    samples = beep_samples(PCMU_RATE, PCMU_RATE * seconds)
    codes = bytes(ulaw(round(value * 32767)) for value in samples)
    return [codes[start : start + PCMU_PACKET] for start in range(0, len(codes), PCMU_PACKET)]


@dataclass(frozen=True)
class AacClip:
    access_units: tuple[bytes, ...]  # raw AAC-LC frames, AAC_FRAME samples apart
    config: bytes  # AudioSpecificConfig, for the SDP's ``config=``


def aac_clip(seconds: int = 1) -> AacClip:
    """About ``seconds`` of the beep pattern encoded as mono AAC-LC."""
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate, context.layout, context.format = AAC_RATE, "mono", "fltp"
    context.bit_rate = 32000
    context.time_base = Fraction(1, AAC_RATE)
    frames = math.ceil(AAC_RATE * seconds / AAC_FRAME)
    samples = beep_samples(AAC_RATE, frames * AAC_FRAME)
    units: list[bytes] = []
    for index in range(frames):
        chunk = samples[index * AAC_FRAME : (index + 1) * AAC_FRAME]
        frame = AudioFrame(format="fltp", layout="mono", samples=AAC_FRAME)
        frame.planes[0].update(struct.pack(f"<{AAC_FRAME}f", *chunk))
        frame.sample_rate, frame.pts = AAC_RATE, index * AAC_FRAME
        units.extend(bytes(packet) for packet in context.encode(frame))
    units.extend(bytes(packet) for packet in context.encode(None))
    return AacClip(tuple(unit for unit in units if unit), bytes(context.extradata or b""))


def aac_payload(access_unit: bytes) -> bytes:
    """RFC 3640 AAC-hbr: a 16-bit AU-headers-length, one AU-header (13-bit size, 3-bit index)."""
    return struct.pack(">HH", 16, len(access_unit) << 3) + access_unit
