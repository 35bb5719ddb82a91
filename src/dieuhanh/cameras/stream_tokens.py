"""Short-lived signed stream URLs.

The API (which knows who is logged in and what they may watch) signs a token naming one camera,
one variant and an expiry; a gateway node checks the signature with the shared secret, without a
database round trip and without ever seeing a user's session. A browser holds nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from dieuhanh.core.errors import Unauthorized


@dataclass(frozen=True)
class StreamClaims:
    camera_id: int
    user_id: int
    quality: str  # "main" or "sub"
    output: str  # "copy" (passthrough) or "h264" (transcoded)
    view_id: int
    expires_at: int  # Unix seconds
    # The viewer's login ("session:<id>" or "token:<id>"): an open stream checks it still stands.
    credential: str = ""

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)).timestamp() >= self.expires_at


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: StreamClaims, secret: bytes) -> str:
    payload = _b64(json.dumps(asdict(claims), separators=(",", ":")).encode())
    signature = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify(token: str, secret: bytes, now: datetime | None = None) -> StreamClaims:
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    if not payload or not hmac.compare_digest(signature, expected):
        raise Unauthorized("The stream token is not valid.", code="invalid_stream_token")
    try:
        claims = StreamClaims(**json.loads(_unb64(payload)))
    except (ValueError, TypeError):
        raise Unauthorized("The stream token is not valid.", code="invalid_stream_token") from None
    if claims.expired(now):
        raise Unauthorized(
            "The stream token has expired; ask the API for a new stream URL.",
            code="stream_token_expired",
        )
    return claims
