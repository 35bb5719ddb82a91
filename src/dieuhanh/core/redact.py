"""Masking secrets for display and logs: passwords inside URLs, and known secrets in free text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "****"
# user:password@ inside any URL in free text (ffmpeg messages, exception strings).
_USERINFO_IN_TEXT = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@"
)


def mask(text: str) -> str:
    """Mask the password of every URL in a text."""
    return _USERINFO_IN_TEXT.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask URLs' passwords and any known secret appearing on its own (e.g. percent-decoded)."""
    text = mask(text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    return text


# Query parameters that carry credentials by convention (API keys, tokens, signatures).
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&](?:[^=&#]*(?:key|token|secret|password|passwd|signature|sig|auth)[^=&#]*))="
    r"(?P<value>[^&#]*)",
    re.IGNORECASE,
)


def scrub_url(url: str, secrets: Iterable[str] = ()) -> str:
    """A URL fit to store or show: its password, credential-like query values and any known
    secret masked (a source's API key may travel in the query string)."""
    return scrub(_SECRET_PARAM.sub(lambda m: f"{m['name']}={MASK}", url), secrets)
