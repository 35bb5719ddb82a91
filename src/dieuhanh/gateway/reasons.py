"""Why a stream is dead, and what an FFmpeg error on opening one says about it.

The gateway's pulls and the cameras' health monitor speak the same reasons: a viewer sees the
reason the monitor would record.
"""

from __future__ import annotations

import errno
from enum import StrEnum

import av


class Reason(StrEnum):
    """Why a stream is dead — each points the unit at a different fix."""

    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # nothing listens there (or the network rejects it)
    NETWORK_REFUSED = "network_refused"  # an address cameras.allowed_networks does not allow
    TIMEOUT = "timeout"  # no answer in time: firewall, wrong address, overloaded recorder
    UNAUTHORIZED = "unauthorized"  # RTSP 401/403: wrong user name or password
    NOT_FOUND = "not_found"  # RTSP 404: wrong channel/path
    PROTOCOL_ERROR = "protocol_error"  # something answered, but not RTSP/HTTP video
    NO_VIDEO = "no_video"  # the stream has no video track
    UNSUPPORTED_CODEC = "unsupported_codec"  # a codec we cannot play or transcode
    STALLED = "stalled"  # connected, then the packets stopped
    FROZEN = "frozen"  # the same picture for too long
    BLACK = "black"  # a black picture


def classify_open_error(exc: BaseException, waited: float, timeout: float) -> tuple[Reason, str]:
    """What an FFmpeg error on opening says about the stream (facts checked with FFmpeg 8.1)."""
    detail = f"{exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}"
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return Reason.UNAUTHORIZED, detail
    if isinstance(exc, av.error.HTTPNotFoundError):
        return Reason.NOT_FOUND, detail
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return Reason.TIMEOUT, detail
    code = getattr(exc, "errno", None)
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return Reason.REFUSED, detail
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return Reason.REFUSED, f"unreachable: {detail}"
    if code == errno.ETIMEDOUT:
        return Reason.TIMEOUT, detail
    if code in (errno.EACCES, errno.EPERM):
        return Reason.UNAUTHORIZED, detail
    # A server that accepts the connection and never answers ends, like one answering garbage,
    # in "Invalid data found" — but only after the whole timeout.
    if isinstance(exc, av.error.InvalidDataError) and waited >= 0.8 * timeout:
        return Reason.TIMEOUT, f"connected, but no answer within {timeout:g} s"
    return Reason.PROTOCOL_ERROR, detail
