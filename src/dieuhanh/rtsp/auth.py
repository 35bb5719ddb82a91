"""RTSP authentication: Digest (RFC 2617, MD5, with or without qop) and Basic.

The client side (``Credentials``: answering a camera's challenge) and the one computation both
sides make (``digest_response``, which the simulator checks answers with).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from base64 import b64encode

PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    # MD5 because RTSP Digest as cameras speak it knows nothing else.
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def digest_params(value: str) -> dict[str, str]:
    """The key=value pairs of a Digest challenge or answer, keys lower-cased."""
    return {key.lower(): quoted or bare for key, quoted, bare in PARAM.findall(value)}


def digest_response(
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: tuple[str, str, str] | None = None,
) -> str:
    """The ``response`` of RFC 2617; ``qop``: (qop, nonce count, cnonce) when the answer has it."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop is None:
        return _md5(f"{ha1}:{nonce}:{ha2}")
    kind, count, cnonce = qop
    return _md5(f"{ha1}:{nonce}:{count}:{cnonce}:{kind}:{ha2}")


class Credentials:
    """The Authorization header for each request, once a challenge has been answered."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self._scheme: str | None = None
        self._params: dict[str, str] = {}
        self._count = 0

    @property
    def ready(self) -> bool:
        return self._scheme is not None

    def challenged(self, headers: list[str]) -> bool:
        """Take a 401's WWW-Authenticate headers; False when no scheme offered is known."""
        offers: dict[str, str] = {}
        for header in headers:
            scheme, _, rest = header.strip().partition(" ")
            offers.setdefault(scheme.lower(), rest)
        if "digest" in offers:
            params = digest_params(offers["digest"])
            if params.get("algorithm", "MD5").upper() != "MD5" or "nonce" not in params:
                return "basic" in offers and self._use_basic()
            self._scheme, self._params, self._count = "digest", params, 0
            return True
        return "basic" in offers and self._use_basic()

    def _use_basic(self) -> bool:
        self._scheme = "basic"
        return True

    def header(self, method: str, uri: str) -> str | None:
        if self._scheme == "basic":
            token = b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {token}"
        if self._scheme != "digest":
            return None
        realm, nonce = self._params.get("realm", ""), self._params["nonce"]
        answer = (self.username, realm, self.password, method, uri, nonce)
        fields = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"',
                  f'uri="{uri}"']  # fmt: skip
        qop = self._params.get("qop", "")
        if "auth" in [q.strip() for q in qop.split(",")]:
            self._count += 1
            count, cnonce = f"{self._count:08x}", secrets.token_hex(8)
            response = digest_response(*answer, qop=("auth", count, cnonce))
            fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
        else:
            response = digest_response(*answer)
        fields.append(f'response="{response}"')
        if "opaque" in self._params:
            fields.append(f'opaque="{self._params["opaque"]}"')
        return "Digest " + ", ".join(fields)
