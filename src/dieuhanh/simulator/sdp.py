"""Session descriptions (RFC 4566) for DESCRIBE, with the codec parameters clients look for.

Parameter sets go in the SDP (``sprop-…``) as well as in-band before every keyframe: players that
start mid-stream, and FFmpeg's probing, read the SDP first.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dieuhanh.rtsp.nal import ParameterSets

MediaKind = Literal["video", "audio"]
VIDEO_CLOCK = 90000
VIDEO_PT = 96  # the dynamic payload type cameras use for their video


@dataclass(frozen=True)
class MediaDescription:
    media: MediaKind
    payload_type: int
    attributes: tuple[str, ...]  # a= lines without the control attribute


def _b64(data: bytes) -> str:
    return b64encode(data).decode("ascii")


def h264_media(payload_type: int, params: ParameterSets, fps: int) -> MediaDescription:
    profile_level_id = params.sps[1:4].hex().upper()
    sprop = f"{_b64(params.sps)},{_b64(params.pps)}"
    fmtp = f"packetization-mode=1;profile-level-id={profile_level_id};sprop-parameter-sets={sprop}"
    return MediaDescription(
        "video",
        payload_type,
        (
            f"rtpmap:{payload_type} H264/{VIDEO_CLOCK}",
            f"fmtp:{payload_type} {fmtp}",
            f"framerate:{fps}",
        ),
    )


def h265_media(payload_type: int, params: ParameterSets, fps: int) -> MediaDescription:
    vps = _b64(params.vps or b"")
    fmtp = f"sprop-vps={vps};sprop-sps={_b64(params.sps)};sprop-pps={_b64(params.pps)}"
    return MediaDescription(
        "video",
        payload_type,
        (
            f"rtpmap:{payload_type} H265/{VIDEO_CLOCK}",
            f"fmtp:{payload_type} {fmtp}",
            f"framerate:{fps}",
        ),
    )


def opaque_media(payload_type: int, encoding: str, fps: int) -> MediaDescription:
    return MediaDescription(
        "video",
        payload_type,
        (f"rtpmap:{payload_type} {encoding}/{VIDEO_CLOCK}", f"framerate:{fps}"),
    )


def pcmu_media() -> MediaDescription:
    return MediaDescription("audio", 0, ("rtpmap:0 PCMU/8000",))


def aac_media(payload_type: int, rate: int, config: bytes) -> MediaDescription:
    fmtp = (
        "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;"
        f"indexdeltalength=3;config={config.hex().upper()}"
    )
    return MediaDescription(
        "audio",
        payload_type,
        (f"rtpmap:{payload_type} MPEG4-GENERIC/{rate}/1", f"fmtp:{payload_type} {fmtp}"),
    )


def session_description(
    medias: Sequence[MediaDescription], address: str, session_id: int, name: str
) -> str:
    """The SDP text; track ``i`` is controlled at ``trackID=i`` relative to the Content-Base."""
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN IP4 {address}",
        f"s={name}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
    ]
    for index, media in enumerate(medias):
        lines.append(f"m={media.media} 0 RTP/AVP {media.payload_type}")
        lines.extend(f"a={attribute}" for attribute in media.attributes)
        lines.append(f"a=control:trackID={index}")
    return "\r\n".join(lines) + "\r\n"
