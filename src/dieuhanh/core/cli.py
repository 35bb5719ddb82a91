"""What every ``dieuhanh`` subcommand shares: settings, the runtime, audited sessions, errors.

Capabilities declare their command groups in their manifests; the composition root
(``dieuhanh.cli``) puts them under one ``dieuhanh`` command and passes a ``CliContext`` so that a
capability's command builds the product's runtime (with every capability's hooks) without
importing the list of capabilities.
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import click
from sqlalchemy.orm import Session

from dieuhanh.core.config import ConfigError, Settings, load_settings
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.runtime import Runtime


@dataclass(frozen=True)
class CliContext:
    make_runtime: Callable[[Settings], Runtime]


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def cli_settings(**overrides: Any) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(str(exc))
    configure_logging(settings.log_level)
    return settings


def cli_runtime(**overrides: Any) -> Runtime:
    """The product's runtime for the running command, from the configuration (and overrides)."""
    context = click.get_current_context().find_object(CliContext)
    if context is None:  # a capability's group invoked on its own, outside `dieuhanh`
        raise click.UsageError("run this command as part of the `dieuhanh` command")
    return context.make_runtime(cli_settings(**overrides))


@contextmanager
def cli_session(runtime: Runtime) -> Iterator[Session]:
    """A session whose changes are audited as made by this command's operating-system user."""
    with runtime.sessions() as session:
        set_actor(session, Actor(name=f"cli:{getpass.getuser()}", via="cli"))
        yield session


def guard(action: Callable[[], None]) -> None:
    """Run a command's body; our errors become one clear line (and details), exit code 2."""
    try:
        action()
    except DieuhanhError as exc:
        details = "".join(f"\n  {_detail_line(d)}" for d in (exc.details or [])[:50])
        fail(exc.message + details)
    except ConfigError as exc:
        fail(str(exc))


def _detail_line(detail: dict[str, Any]) -> str:
    where = (
        f"line {detail['line']}" if "line" in detail else f"feature {detail.get('feature', '?')}"
    )
    field = f" {detail['field']}:" if detail.get("field") else ""
    return f"{where}:{field} {detail.get('message') or detail.get('reason')}"
