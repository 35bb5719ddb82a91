"""Secrets of sources: references to the server's environment, never values in the config.

A token or password is written ``${DIEUHANH_SOURCE_IGATE_TOKEN}`` and read from the environment
only when a run sends it. So no secret is stored in the database, shown by the API, written in
an audit entry or a log; and the prefix keeps a source from reading the server's other variables
(the database URL, the admin password) and sending them to a host of its choosing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dieuhanh.core.errors import InvalidInput

PREFIX = "DIEUHANH_SOURCE_"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Keys whose value is always a secret, in dlt's auth configurations.
SECRET_KEYS = frozenset({"token", "password", "api_key", "client_secret"})


class SecretMissing(Exception):
    """A referenced environment variable is not set; the message names it, never a value."""


def check_references(value: Any, key: str) -> None:
    """Every reference in ``value`` names an allowed variable; a secret key holds only one."""
    if isinstance(value, dict):
        for name, item in value.items():
            check_references(item, f"{key}.{name}")
            if name in SECRET_KEYS and not _is_reference(item):
                raise InvalidInput(
                    f"{key}.{name}: write the secret as a reference to an environment variable "
                    f"of the server, e.g. ${{{PREFIX}{_suggest(key)}}}; secrets are not stored "
                    "in a source",
                    code="invalid_source",
                )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_references(item, f"{key}[{index}]")
    elif isinstance(value, str):
        for name in REFERENCE.findall(value):
            if not name.startswith(PREFIX):
                raise InvalidInput(
                    f"{key}: ${{{name}}} is not allowed; a source may read only environment "
                    f"variables named {PREFIX}…",
                    code="invalid_source",
                )


def resolve(value: Any, key: str, environ: Mapping[str, str]) -> Any:
    """``value`` with every reference replaced; SecretMissing names the first unset one."""
    if isinstance(value, dict):
        return {name: resolve(item, f"{key}.{name}", environ) for name, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, f"{key}[{index}]", environ) for index, item in enumerate(value)]
    if isinstance(value, str):
        return REFERENCE.sub(lambda match: _lookup(match.group(1), key, environ), value)
    return value


def _lookup(name: str, key: str, environ: Mapping[str, str]) -> str:
    found = environ.get(name)
    if not found:
        raise SecretMissing(
            f"{key}: the environment variable {name} is not set; set it on the server that "
            "runs the data hub (demo, worker) and run again"
        )
    return found


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and REFERENCE.fullmatch(value.strip()) is not None


def _suggest(key: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_")[-30:] or "SECRET"
