"""Password hashing with Argon2id (RFC 9106), and the password policy."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dieuhanh.core.errors import InvalidInput


class Passwords:
    """Hashing with the cost parameters of one installation (tests use cheaper ones)."""

    def __init__(self, hasher: PasswordHasher | None = None, min_length: int = 12) -> None:
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 "low memory" profile
        self.min_length = min_length
        # Verified against when a user name does not exist, so that a wrong name and a wrong
        # password take the same time and cannot be told apart.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    def hash(self, password: str, *, username: str | None = None) -> str:
        self.check_policy(password, username=username)
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def check_policy(self, password: str, *, username: str | None = None) -> None:
        if len(password) < self.min_length:
            raise InvalidInput(
                f"Password too short: {len(password)} characters, at least "
                f"{self.min_length} are required.",
                code="password_too_short",
            )
        if len(password) > 1024:
            raise InvalidInput(
                "Password too long: at most 1024 characters.", code="password_too_long"
            )
        if username and password.casefold() == username.casefold():
            raise InvalidInput("Password must not be the user name.", code="password_is_username")


def generate_password() -> str:
    """A password people can read aloud and type: 4 groups of 5 from an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY345679"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)
