"""Credentials for other systems (cameras, data sources), encrypted at rest with configured keys.

Fernet (AES-128-CBC + HMAC-SHA256). Several keys may be configured: the first encrypts, all
decrypt, so keys can be rotated without re-entering every camera's password.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dieuhanh.core.errors import DieuhanhError


@dataclass(frozen=True)
class Credentials:
    """A user name and password for another system (a camera, a data source)."""

    username: str
    password: str


KEY_FILE = "credential.key"


class CredentialKeyMissing(DieuhanhError):
    status = 500
    code = "credential_key_missing"


class CredentialCipher:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    def encrypt(self, credentials: Credentials | None) -> str | None:
        if credentials is None:
            return None
        if self._fernet is None:
            raise CredentialKeyMissing(
                "No key to encrypt camera credentials: set DIEUHANH_CAMERAS__CREDENTIAL_KEYS "
                '(e.g. \'["<output of: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())">"]\').',
            )
        payload = json.dumps({"u": credentials.username, "p": credentials.password})
        return self._fernet.encrypt(payload.encode()).decode()

    def decrypt(self, token: str | None) -> Credentials | None:
        if not token:
            return None
        if self._fernet is None:
            raise CredentialKeyMissing("No key to decrypt camera credentials is configured.")
        try:
            payload = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise CredentialKeyMissing(
                "Camera credentials cannot be decrypted with the configured keys (was the key "
                "changed without keeping the old one in credential_keys?)."
            ) from None
        return Credentials(payload["u"], payload["p"])


def load_or_create_key_file(data_dir: Path, name: str = KEY_FILE) -> bytes:
    """The embedded demo keeps its keys in its data folder, readable by its owner only.

    A new key is written whole to a temporary file, then linked into place: a full disk (or a
    crash) leaves no empty or partial key file behind, which every later start would read as
    a broken key. ``link`` fails if another process created the key first; that key wins."""
    path = data_dir / name
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor, temporary = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        os.unlink(temporary)
    return key
