"""The one error the RTSP client raises: a reason the health monitor also uses, and a detail."""

from __future__ import annotations


class RtspError(Exception):
    """``reason`` is one of ``dns``, ``refused``, ``timeout``, ``unauthorized``, ``not_found``,
    ``protocol_error``, ``no_video``, ``unsupported_codec``, ``stalled``; ``detail`` says what
    was wrong in words a person can act on."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def protocol_error(detail: str) -> RtspError:
    return RtspError("protocol_error", detail)
