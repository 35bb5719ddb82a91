"""Answering a camera's RTSP challenge: Digest (RFC 2617, MD5, with or without qop) or Basic."""

from __future__ import annotations

import hashlib
import re
import secrets
from base64 import b64encode

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    # MD5 because RTSP Digest as cameras speak it knows nothing else.
    return hashlib.md5(text.encode("utf-8")).hexdigest()


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
            found = _PARAM.findall(offers["digest"])
            params = {key.lower(): quoted or bare for key, quoted, bare in found}
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
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"',
                  f'uri="{uri}"']  # fmt: skip
        qop = self._params.get("qop", "")
        if "auth" in [q.strip() for q in qop.split(",")]:
            self._count += 1
            count, cnonce = f"{self._count:08x}", secrets.token_hex(8)
            response = _md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in self._params:
            fields.append(f'opaque="{self._params["opaque"]}"')
        return "Digest " + ", ".join(fields)
