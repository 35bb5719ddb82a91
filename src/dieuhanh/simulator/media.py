"""Tracks: a clip or audio loop packetized once, or a live source; shared by all mounts using it."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from dieuhanh.rtsp.rtp import packetize_h264, packetize_h265, packetize_opaque
from dieuhanh.simulator.audio import (
    AAC_FRAME,
    AAC_RATE,
    PCMU_PACKET,
    PCMU_RATE,
    aac_clip,
    aac_payload,
    pcmu_packets,
)
from dieuhanh.simulator.camera import PROPRIETARY_ENCODING, SimulatedCamera
from dieuhanh.simulator.clips import Clip, ClipSpec, load_clip
from dieuhanh.simulator.live_source import LiveSettings, LiveSource, LiveSources
from dieuhanh.simulator.rtp import RtpFrame, build_frame
from dieuhanh.simulator.sdp import (
    VIDEO_CLOCK,
    VIDEO_PT,
    MediaDescription,
    aac_media,
    h264_media,
    h265_media,
    opaque_media,
    pcmu_media,
)

AAC_PT = 97


@dataclass(frozen=True)
class Track:
    """One looping RTP stream: frame ``i`` plays at ``frames[i].ts_offset / clock_rate`` s."""

    description: MediaDescription
    clock_rate: int
    frames: tuple[RtpFrame, ...]
    loop_ticks: int  # RTP ticks of one pass through ``frames``

    def __post_init__(self) -> None:
        if not self.frames or not self.frames[0].keyframe:
            raise ValueError("a track must start with a keyframe")


@dataclass(frozen=True)
class LiveTrack:
    """Video from a live encoder; its SDP exists once the source is ready (``Mount.prepare``)."""

    source: LiveSource

    @property
    def description(self) -> MediaDescription:
        return self.source.description


MediaTrack = Track | LiveTrack


def video_track(clip: Clip) -> Track:
    fps = clip.spec.fps
    if clip.spec.codec == "h264":
        packetize, description = packetize_h264, h264_media(VIDEO_PT, clip.parameter_sets, fps)
    else:
        packetize, description = packetize_h265, h265_media(VIDEO_PT, clip.parameter_sets, fps)
    frames = tuple(
        build_frame(packetize(frame.nal_units), VIDEO_PT, _video_ticks(index, fps), frame.keyframe)
        for index, frame in enumerate(clip.frames)
    )
    return Track(description, VIDEO_CLOCK, frames, _video_ticks(len(frames), fps))


def proprietary_track(fps: int, gop: int) -> Track:
    """Opaque bytes under an unknown encoding name: a stream no decoder can show."""
    rng = random.Random(0x48494B)  # deterministic, so every run sends the same bytes
    frames = []
    for index in range(gop * 2):
        keyframe = index % gop == 0
        data = b"IMKH" + rng.randbytes(6000 if keyframe else 800)
        ticks = _video_ticks(index, fps)
        frames.append(build_frame(packetize_opaque(data), VIDEO_PT, ticks, keyframe))
    description = opaque_media(VIDEO_PT, PROPRIETARY_ENCODING, fps)
    return Track(description, VIDEO_CLOCK, tuple(frames), _video_ticks(len(frames), fps))


def pcmu_track() -> Track:
    payloads = pcmu_packets()
    frames = tuple(
        build_frame([payload], 0, index * PCMU_PACKET, True)
        for index, payload in enumerate(payloads)
    )
    return Track(pcmu_media(), PCMU_RATE, frames, len(frames) * PCMU_PACKET)


def aac_track() -> Track:
    clip = aac_clip()
    frames = tuple(
        build_frame([aac_payload(unit)], AAC_PT, index * AAC_FRAME, True)
        for index, unit in enumerate(clip.access_units)
    )
    description = aac_media(AAC_PT, AAC_RATE, clip.config)
    return Track(description, AAC_RATE, frames, len(frames) * AAC_FRAME)


def _video_ticks(index: int, fps: int) -> int:
    return index * VIDEO_CLOCK // fps


class MediaLibrary:
    """Builds each distinct track once: a hundred mounts of one clip share one set of frames, and
    a hundred live mounts of one spec share one encoder."""

    def __init__(self, cache_dir: Path | None = None, live: LiveSettings | None = None) -> None:
        self.cache_dir = cache_dir
        self.live = LiveSources(live)
        self._tracks: dict[Hashable, Track] = {}

    def tracks_for(self, camera: SimulatedCamera) -> tuple[MediaTrack, ...]:
        tracks: list[MediaTrack] = []
        live = camera.live_spec
        if camera.proprietary_video:
            key = ("proprietary", camera.fps, camera.clip.gop_frames)
            tracks.append(self._get(key, lambda: proprietary_track(camera.fps, key[2])))
        elif live is not None:
            tracks.append(LiveTrack(self.live.source_for(live)))
        elif not camera.audio_only:
            tracks.append(self._get(camera.clip, lambda: self._video(camera.clip)))
        if camera.audio == "pcmu":
            tracks.append(self._get("pcmu", pcmu_track))
        elif camera.audio == "aac":
            tracks.append(self._get("aac", aac_track))
        return tuple(tracks)

    def _video(self, spec: ClipSpec) -> Track:
        return video_track(load_clip(spec, self.cache_dir))

    def _get(self, key: Hashable, build: Callable[[], Track]) -> Track:
        if key not in self._tracks:
            self._tracks[key] = build()
        return self._tracks[key]
