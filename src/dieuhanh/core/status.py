"""The state of things a capability watches (sources, alerts, citizen reports), offered to
capabilities in the same or a higher layer that may not import it (issue 14: the assistant
answers "which sources are failing?" without importing the data hub).

A capability contributes :class:`StatusProvider` objects to the ``STATUS_PROVIDERS`` extension
point in its manifest; a reader asks ``runtime.extensions.of(STATUS_PROVIDERS)`` and picks the
subject it wants. Counts and items are always within the ``scope`` given, so a commune officer's
question never reads another commune's records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope

STATUS_PROVIDERS = "core.status_providers"


@dataclass(frozen=True)
class StatusItem:
    label: str
    state: str
    unit_code: str | None = None
    unit_name: str | None = None
    since: datetime | None = None
    link: str | None = None


@dataclass(frozen=True)
class StatusSummary:
    subject: str
    counts: dict[str, int]  # state → how many, within the scope
    items: list[StatusItem] = field(default_factory=list)  # in the state asked, at most `limit`
    link: str | None = None  # the page that lists them


# (session, scope, state asked or None for the provider's "needs attention" default, limit)
Summarize = Callable[[Session, Scope, "str | None", int], StatusSummary]


@dataclass(frozen=True)
class StatusProvider:
    subject: str  # "sources", "alerts", "reports"
    states: tuple[str, ...]  # the states it knows, the "needs attention" ones first
    summarize: Summarize


def provider(providers: list[object], subject: str) -> StatusProvider | None:
    for item in providers:
        if isinstance(item, StatusProvider) and item.subject == subject:
            return item
    return None
