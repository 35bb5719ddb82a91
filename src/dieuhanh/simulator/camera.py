"""What one simulated camera looks like from the network: one mount of the RTSP server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dieuhanh.rtsp.nal import VIDEO_CODECS, VideoCodec
from dieuhanh.simulator.clips import ClipSpec
from dieuhanh.simulator.live_encoder import LiveSpec
from dieuhanh.simulator.pictures import PictureKind

AudioCodec = Literal["pcmu", "aac"]
AUDIO_CODECS: tuple[AudioCodec, ...] = ("pcmu", "aac")
AuthScheme = Literal["any", "basic", "digest"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = ("any", "basic", "digest")
PROPRIETARY_ENCODING = "X-HIK-PRIVATE"  # an encoding name no player knows, as NVRs send


@dataclass(frozen=True)
class SimulatedCamera:
    """A mount: ``rtsp://host:port{path}``.

    ``kind="moving"`` video comes from a live encoder shared by every mount of the same codec,
    size, fps and gop: a new session starts on a fresh keyframe showing the wall clock, as a real
    camera does; ``looped=True`` plays a pre-encoded clip of ``clip_seconds`` instead, in a loop
    (every session then starts on the same picture). ``black`` and ``frozen`` always loop a clip:
    their pictures are meant to repeat exactly.

    ``username``/``password`` turn on RTSP authentication; ``auth`` chooses the schemes offered
    (``any`` offers Digest and Basic, as most cameras do; clients then pick Digest).
    ``stall_after`` seconds after PLAY the stream stops sending while the connection stays open.
    ``audio_only`` describes no video at all; ``proprietary_video`` a video track in a vendor
    format no decoder knows.
    """

    path: str
    codec: VideoCodec = "h264"
    kind: PictureKind = "moving"
    width: int = 640
    height: int = 360
    fps: int = 15
    gop: int = 0  # frames between keyframes; 0 means one second
    bitrate_kbps: int = 0  # live video at a constant bitrate, as cameras send; 0: constant quality
    clip_seconds: float = 2.0
    username: str | None = None
    password: str | None = None
    auth: AuthScheme = "any"
    audio: AudioCodec | None = None
    stall_after: float | None = None
    audio_only: bool = False
    proprietary_video: bool = False
    looped: bool = False

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.endswith("/") or "?" in self.path:
            raise ValueError(f"path {self.path!r} must start with '/' and not end with '/'")
        if self.codec not in VIDEO_CODECS:
            raise ValueError(f"codec {self.codec!r} is not one of {', '.join(VIDEO_CODECS)}")
        if (self.username is None) != (self.password is None):
            raise ValueError(f"{self.path}: give both username and password, or neither")
        if self.auth not in AUTH_SCHEMES:
            raise ValueError(f"auth {self.auth!r} is not one of {', '.join(AUTH_SCHEMES)}")
        if self.audio is not None and self.audio not in AUDIO_CODECS:
            raise ValueError(f"audio {self.audio!r} is not one of {', '.join(AUDIO_CODECS)}")
        if self.audio_only and (self.audio is None or self.proprietary_video):
            raise ValueError(f"{self.path}: audio_only needs audio and no proprietary_video")
        if self.stall_after is not None and self.stall_after < 0:
            raise ValueError(f"{self.path}: stall_after must be >= 0 seconds")
        _ = self.clip  # building the ClipSpec validates size, fps, gop and kind
        _ = self.live_spec  # and the LiveSpec that a live picture fits the size

    @property
    def clip(self) -> ClipSpec:
        return ClipSpec(
            codec=self.codec,
            kind=self.kind,
            width=self.width,
            height=self.height,
            fps=self.fps,
            gop=self.gop,
            duration=self.clip_seconds,
        )

    @property
    def live_spec(self) -> LiveSpec | None:
        """The live encoder this camera's video comes from; None for a looped clip or no video."""
        if self.kind != "moving" or self.looped or self.audio_only or self.proprietary_video:
            return None
        return LiveSpec(self.codec, self.width, self.height, self.fps, self.gop, self.bitrate_kbps)

    @property
    def has_credentials(self) -> bool:
        return self.username is not None
