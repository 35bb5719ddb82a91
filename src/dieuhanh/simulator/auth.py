"""RTSP authentication as cameras do it: Digest (MD5, RFC 2617) and Basic, offered together.

The challenge carries no ``qop``, like most cameras (RFC 2069 style); answers with ``qop=auth``
are accepted too. One nonce per server is enough for a simulator: nothing here is secret.
"""

from __future__ import annotations

import binascii
import hmac
import secrets
from base64 import b64decode

from dieuhanh.rtsp.auth import digest_params, digest_response
from dieuhanh.simulator.camera import AuthScheme

REALM = "DieuHanh Simulated Camera"


class Authenticator:
    def __init__(self, username: str, password: str, scheme: AuthScheme, nonce: str) -> None:
        self.username, self.password, self.scheme, self.nonce = username, password, scheme, nonce

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_hex(16)

    def challenges(self) -> list[tuple[str, str]]:
        """WWW-Authenticate headers for a 401; Digest first, as cameras list it."""
        headers = []
        if self.scheme in ("any", "digest"):
            digest = f'Digest realm="{REALM}", nonce="{self.nonce}", algorithm="MD5"'
            headers.append(("WWW-Authenticate", digest))
        if self.scheme in ("any", "basic"):
            headers.append(("WWW-Authenticate", f'Basic realm="{REALM}"'))
        return headers

    def accepts(self, method: str, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and self.scheme in ("any", "basic"):
            return self._basic(value.strip())
        if scheme == "digest" and self.scheme in ("any", "digest"):
            return self._digest(method, value)
        return False

    def _basic(self, value: str) -> bool:
        try:
            decoded = b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.username}:{self.password}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _digest(self, method: str, value: str) -> bool:
        params = digest_params(value)
        if params.get("username") != self.username or params.get("nonce") != self.nonce:
            return False
        if params.get("realm") != REALM or "uri" not in params:
            return False
        qop = params.get("qop")
        answer = (self.username, REALM, self.password, method, params["uri"], self.nonce)
        if qop:
            expected = digest_response(
                *answer, qop=(qop, params.get("nc", ""), params.get("cnonce", ""))
            )
        else:
            expected = digest_response(*answer)
        return hmac.compare_digest(expected, params.get("response", "").lower())
