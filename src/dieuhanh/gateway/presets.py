"""H.264 encoder presets for the H.265 → H.264 fallback: data, and the ffmpeg arguments they imply.

Frigate's way (``frigate/ffmpeg_presets.py``): a preset is a name that maps to encoder options,
and the ffmpeg command line is built from it by a pure function tested as strings. Our transcode
worker encodes in-process with PyAV, so a preset gives the encoder name, its AVOptions and the
pixel format it is fed; :func:`ffmpeg_args` turns the very same AVOptions into ``-key:v value``
pairs, so the worker and an operator's ffmpeg (Debian's, or an NVIDIA build) stay in step.

Decoding stays on the CPU in both: decoding one H.265 stream is a fraction of the cost of encoding
it (see NOTES-video.md), and it keeps the two paths identical. Every preset aims at live viewing:
no B-frames, no lookahead, a keyframe every second (a late joiner waits at most 1 s), and a VBV
cap on the bitrate chosen by output size, since a grid tile needs far fewer bits than a full view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

AudioMode = Literal["drop", "aac"]
AUDIO_MODES: tuple[AudioMode, ...] = ("drop", "aac")
AAC_BITRATE = "32k"  # camera microphones: mono speech; 32 kbit/s AAC-LC is plenty
# 48 kHz whatever the camera sends (G.711 is 8 kHz): an AAC frame is 1024 samples, 21 ms here
# against 128 ms at 8 kHz, and the muxer holds each video frame until audio has caught up.
AAC_RATE = 48000
# One fragment per frame: the live edge is ~0.3 s instead of ~0.9 s with frag_keyframe. Cut by
# a 1 µs frag_duration rather than frag_every_frame: with an audio track interleaved,
# frag_every_frame let the muxer take the *next* queued frame's time for the current one and
# write every other video frame with a duplicated timestamp (FFmpeg 5.1 and 8.1 alike).
FMP4_OPTIONS: dict[str, str] = {"movflags": "+empty_moov+default_base_moof", "frag_duration": "1"}
OPEN_TIMEOUT_S = 5.0
# 32 KiB and 0.1 s of analysis: the SDP already names the codec; FFmpeg's defaults (5 MB, 5 s)
# made every open take about 2 s.
PROBESIZE = "32768"
ANALYZEDURATION_US = "100000"

# (largest output in pixels, VBV cap in kbit/s); above the last tier, the last cap applies.
BITRATE_TIERS: tuple[tuple[int, int], ...] = (
    (640 * 360, 800),  # a grid tile
    (1280 * 720, 2000),  # a large tile, a small full view
    (1920 * 1080, 4000),  # a full view
)


@dataclass(frozen=True)
class Preset:
    """One H.264 encoder and how to drive it for live viewing.

    ``options`` are FFmpeg AVOptions; values may name ``{gop}`` (frames per second, i.e. a
    1 s GOP), ``{kbps}`` (the bitrate cap) and ``{avg_kbps}`` (the target for encoders that
    need one). ``pix_fmt`` is what the encoder is fed. ``device_args`` and ``upload`` are what
    ffmpeg needs to reach a hardware encoder that only takes frames in device memory (VAAPI);
    ``in_worker`` is False for those, as PyAV cannot upload frames to a device.
    """

    name: str
    encoder: str
    pix_fmt: str
    options: Mapping[str, str]
    description: str
    device_args: tuple[str, ...] = ()
    upload: str | None = None
    in_worker: bool = True


@dataclass(frozen=True)
class EncoderSettings:
    """What the worker opens: an encoder, its options resolved for one output size and rate."""

    encoder: str
    pix_fmt: str
    width: int
    height: int
    fps: int
    gop: int
    max_kbps: int
    options: dict[str, str] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "libx264",
            "libx264",
            "yuv420p",
            {
                "preset": "ultrafast",
                # zerolatency: no lookahead, no frame threading (sliced threads instead).
                "tune": "zerolatency",
                # A cap, not a promise: with ultrafast (no CABAC) x264 writes Constrained
                # Baseline, which every browser decodes.
                "profile": "main",
                "crf": "23",
                "maxrate": "{kbps}k",
                "bufsize": "{kbps}k",
                "bf": "0",
                "g": "{gop}",
                "keyint_min": "{gop}",
                "sc_threshold": "0",  # no scene-cut keyframes: fragments start on the 1 s grid
            },
            "CPU (x264): works everywhere; ~12-21 % of a core per 1080p stream",
        ),
        Preset(
            "h264_nvenc",
            "h264_nvenc",
            "yuv420p",
            {
                "preset": "p1",
                "tune": "ll",
                "zerolatency": "1",
                "delay": "0",  # hand each frame out at once (the default queues frames)
                "rc-lookahead": "0",
                "profile": "main",
                "rc": "vbr",
                "cq": "26",
                "b": "0",
                "maxrate": "{kbps}k",
                "bufsize": "{kbps}k",
                "bf": "0",
                "g": "{gop}",
                "forced-idr": "1",
            },
            "NVIDIA GPU (NVENC); needs the NVIDIA driver's libcuda/libnvidia-encode",
        ),
        Preset(
            "h264_qsv",
            "h264_qsv",
            "nv12",
            {
                "preset": "veryfast",
                "look_ahead": "0",
                "async_depth": "1",  # one frame in flight: lowest latency
                "profile": "main",
                "b": "{avg_kbps}k",
                "maxrate": "{kbps}k",
                "bufsize": "{kbps}k",
                "bf": "0",
                "g": "{gop}",
                "forced_idr": "1",
            },
            "Intel Quick Sync (oneVPL/Media SDK runtime and /dev/dri)",
        ),
        Preset(
            "h264_vaapi",
            "h264_vaapi",
            "vaapi",
            {
                "rc_mode": "VBR",
                "async_depth": "1",
                "profile": "main",
                "b": "{avg_kbps}k",
                "maxrate": "{kbps}k",
                "bufsize": "{kbps}k",
                "bf": "0",
                "g": "{gop}",
            },
            "VAAPI (Intel/AMD on Linux, /dev/dri/renderD128); ffmpeg only, not the PyAV worker",
            device_args=("-vaapi_device", "/dev/dri/renderD128"),
            upload="format=nv12,hwupload",
            in_worker=False,
        ),
    )
}
DEFAULT_PRESET = "libx264"


class UnknownPreset(ValueError):
    """A preset name that is not in :data:`PRESETS`; the message lists the valid ones."""


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise UnknownPreset(f"unknown encoder preset {name!r}; valid presets: {valid}") from None


def output_size(
    width: int, height: int, max_width: int | None = None, max_height: int | None = None
) -> tuple[int, int]:
    """Scale down (never up) to fit the bounds, keep the aspect ratio, even dimensions (4:2:0)."""
    factor = 1.0
    if max_width:
        factor = min(factor, max_width / width)
    if max_height:
        factor = min(factor, max_height / height)
    return _even(width * factor, min(width, max_width or width)), _even(
        height * factor, min(height, max_height or height)
    )


def _even(value: float, limit: int) -> int:
    """The nearest even number, but not above ``limit``."""
    even = int(value / 2 + 0.5) * 2
    return max(2, even if even <= limit else even - 2)


def bitrate_cap_kbps(width: int | None, height: int | None) -> int:
    """The VBV cap for an output size; an unknown size gets the full-view cap."""
    if not width or not height:
        return BITRATE_TIERS[-1][1]
    pixels = width * height
    return next((kbps for most, kbps in BITRATE_TIERS if pixels <= most), BITRATE_TIERS[-1][1])


def resolve_options(preset: Preset, *, fps: int, max_kbps: int) -> dict[str, str]:
    """The preset's options with ``{gop}``, ``{kbps}`` and ``{avg_kbps}`` filled in."""
    values = {"gop": max(1, fps), "kbps": max_kbps, "avg_kbps": max_kbps * 3 // 4}
    return {key: value.format(**values) for key, value in preset.options.items()}


def encoder_settings(preset: Preset | str, *, width: int, height: int, fps: int) -> EncoderSettings:
    """Settings for an output of ``width``×``height`` (already scaled) at ``fps``."""
    preset = get_preset(preset) if isinstance(preset, str) else preset
    fps = max(1, fps)
    max_kbps = bitrate_cap_kbps(width, height)
    return EncoderSettings(
        encoder=preset.encoder,
        pix_fmt=preset.pix_fmt,
        width=width,
        height=height,
        fps=fps,
        gop=fps,
        max_kbps=max_kbps,
        options=resolve_options(preset, fps=fps, max_kbps=max_kbps),
    )


def scale_filter(max_width: int | None = None, max_height: int | None = None) -> str | None:
    """ffmpeg's equivalent of :func:`output_size`: shrink to fit, never enlarge, even sizes."""
    if max_width and max_height:
        return (
            f"scale=w='min(iw,{max_width})':h='min(ih,{max_height})'"
            ":force_original_aspect_ratio=decrease:force_divisible_by=2"
        )
    if max_width:
        return f"scale=w='min(iw,{max_width})':h=-2"
    if max_height:
        return f"scale=w=-2:h='min(ih,{max_height})'"
    return None


def bounded_size(
    max_width: int | None = None, max_height: int | None = None
) -> tuple[int, int] | None:
    """The largest output the bounds allow, assuming 16:9 (cameras' usual shape) for a missing one.

    ffmpeg learns the source size only at run time, so the command line's bitrate cap is chosen
    from the bounds; the worker uses the real output size.
    """
    if max_width and max_height:
        return max_width, max_height
    if max_width:
        return max_width, max_width * 9 // 16
    if max_height:
        return max_height * 16 // 9, max_height
    return None


def ffmpeg_args(
    preset: Preset | str,
    input_url: str,
    *,
    fps: int,
    max_width: int | None = None,
    max_height: int | None = None,
    limit_fps: bool = False,
    audio: AudioMode = "drop",
    rtsp: bool = True,
    output: str = "pipe:1",
) -> list[str]:
    """ffmpeg's arguments (without the program name) for what the worker does with ``preset``.

    ``input_url`` is usually a placeholder the operator fills in; a URL with a password in an
    argument list is visible in ``ps`` to every local user, which is why our worker reads it from
    stdin instead. ``fps`` is the stream's frame rate (the GOP is ``fps`` frames, 1 s);
    ``limit_fps`` drops frames down to it. Audio is always encoded to AAC, as the worker does:
    a copied track that starts after the video is shifted to 0 by the muxer (empty_moov).
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    if audio not in AUDIO_MODES:
        raise ValueError(f"audio {audio!r} is not one of {', '.join(AUDIO_MODES)}")
    size = bounded_size(max_width, max_height)
    max_kbps = bitrate_cap_kbps(*size) if size else bitrate_cap_kbps(None, None)
    args = ["-hide_banner", "-loglevel", "warning", "-nostdin", *preset.device_args]
    if rtsp:
        timeout_us = str(int(OPEN_TIMEOUT_S * 1_000_000))
        args += ["-rtsp_transport", "tcp", "-timeout", timeout_us]
    args += ["-probesize", PROBESIZE, "-analyzeduration", ANALYZEDURATION_US, "-i", input_url]
    args += ["-map", "0:v:0", *(["-map", "0:a:0?"] if audio == "aac" else [])]
    fps_filter = f"fps={fps}" if limit_fps else None
    filters = [f for f in (fps_filter, scale_filter(max_width, max_height), preset.upload) if f]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-c:v", preset.encoder]
    if preset.upload is None:  # uploaded frames are in device memory: no -pix_fmt for those
        args += ["-pix_fmt", preset.pix_fmt]
    for key, value in resolve_options(preset, fps=fps, max_kbps=max_kbps).items():
        args += [f"-{key}:v", value]
    if audio == "aac":
        args += ["-c:a", "aac", "-ar", str(AAC_RATE), "-b:a", AAC_BITRATE]
    else:
        args += ["-an"]
    args += ["-f", "mp4"]
    for key, value in FMP4_OPTIONS.items():
        args += [f"-{key}", value]
    return [*args, output]
