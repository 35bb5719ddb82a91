"""Connector kinds: each checks its own part of a source's ``config`` and yields pages.

A page is what one request (one file, one message) brought: its exact bytes, kept as the run's
raw payload, and the records found in it. The runner (:mod:`dieuhanh.datahub.runs`) maps the
records and stores them; a connector never writes to the database, so every kind gets the same
provenance, idempotency and counting for free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dieuhanh.core.config import DatahubSettings
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.network import NetworkPolicy


class SourceFailure(Exception):
    """A run cannot go on (a server error after the retries, a page that is not JSON, a layout
    that changed); the message says what, for the run's error and the source's state."""


@dataclass
class Page:
    resource: str
    reference: str  # where it came from: a URL without secrets, a file name, a topic
    body: bytes | None  # kept as the run's raw payload; None: part of the previous page's
    content_type: str | None
    records: list[Any]  # JSON-native (dict, list, str, int, float, bool, None): stored as is
    # The highest incremental cursor value among the records (None: not incremental).
    cursor: str | None = None
    primary_key: str | list[str] | None = None  # the resource's, for a dataset mapping
    # A file's rows: each record's row number, and the column header of each field, so that a
    # rejection reads "row 12, column Mã đơn vị" as the person sees their file.
    row_numbers: list[int] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # Records the connector already found wrong (1-based place → (field, reason)).
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Called once the page's records are committed: an MQTT batch is acknowledged to the broker
    # only then, so a batch whose storing fails is delivered again to the next run.
    stored: Callable[[], None] | None = None
    # Called instead when storing the page failed: the MQTT batch's connection, waiting for the
    # outcome, is let go at once (unacknowledged) rather than left open for ``HOLD_SECONDS``.
    abandoned: Callable[[], None] | None = None


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str


@dataclass
class FetchContext:
    settings: DatahubSettings
    policy: NetworkPolicy
    # Per resource: the highest cursor value stored by earlier successful runs.
    cursor: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    upload: Upload | None = None  # the file of an upload run
    source_code: str = ""  # a stable name towards the other system (an MQTT client id)


class Connector(Protocol):
    kind: str

    def check(self, config: dict[str, Any], where: str) -> None:
        """Raise InvalidInput naming the key (prefixed with ``where``) of what is wrong."""

    def resources(self, config: dict[str, Any]) -> list[str]:
        """The names of the resources the config declares (what a mapping may name)."""

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        """Pages in order; raises SourceFailure when the run cannot go on."""


def _sort_key(value: str) -> tuple[int, Any]:
    try:
        return (0, float(value))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (1, moment.timestamp() if moment.tzinfo else moment.isoformat())
    except ValueError:
        return (2, value)


def highest(values: list[str]) -> str | None:
    """The greatest cursor value: as numbers, as times, else as text."""
    return max(values, key=_sort_key) if values else None


def _registry() -> dict[str, Connector]:
    from dieuhanh.datahub.connectors.mqtt import MqttConnector
    from dieuhanh.datahub.connectors.push import PushConnector
    from dieuhanh.datahub.connectors.rest_api import RestApiConnector
    from dieuhanh.datahub.connectors.upload import UploadConnector
    from dieuhanh.datahub.connectors.web_page import WebPageConnector

    connectors: tuple[Connector, ...] = (
        RestApiConnector(),
        WebPageConnector(),
        UploadConnector(),
        PushConnector(),
        MqttConnector(),
    )
    return {connector.kind: connector for connector in connectors}


def kinds() -> list[str]:
    return sorted(_registry())


def connector_for(kind: str) -> Connector:
    connector = _registry().get(kind)
    if connector is None:
        raise InvalidInput(
            f"kind: {kind!r} is not a connector kind; use one of {', '.join(kinds())}",
            code="invalid_source",
        )
    return connector
