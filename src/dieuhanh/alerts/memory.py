"""What the rules decide with, read from the database for a batch of events: the engine
compiled from the enabled rules, the rules' memory of their subjects (``alert_rule_subjects``),
the active alerts and the units — each loaded once per batch, by subject."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, defer

from dieuhanh.alerts.engine import CompiledRule, RuleEngine, Touched
from dieuhanh.alerts.models import Alert, AlertRule, RuleSubject
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.topics import AlertEvent
from dieuhanh.units.models import Unit

# A note and an event a batch deciding at once writes after its flush (``service._tell``):
# the alert, its event as it was at the decision, topic, by, action, text, at.
Told = tuple[Alert, AlertEvent, str, str, str, str | None, datetime]


# --- the engine, compiled from the enabled rules ----------------------------------------------

_ENGINES: dict[str, tuple[tuple[Any, ...], RuleEngine]] = {}
_ENGINES_LOCK = threading.Lock()


def current_engine(session: Session) -> RuleEngine:
    """The engine for the enabled rules, compiled again only when a rule changed (the version is
    the rules' count and latest change, one small query)."""
    version = tuple(session.execute(
        select(func.count(AlertRule.id), func.max(AlertRule.updated_at))
    ).one())  # fmt: skip
    key = str(session.get_bind().engine.url)
    with _ENGINES_LOCK:
        cached = _ENGINES.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    rules = session.scalars(select(AlertRule).where(AlertRule.enabled)).all()
    engine = RuleEngine(
        CompiledRule.build(rule.id, RuleSpec.model_validate(rule.definition)) for rule in rules
    )
    with _ENGINES_LOCK:
        _ENGINES[key] = (version, engine)
    return engine


def _by_subject(
    session: Session, query: Select[Any], column: Any, subjects: Iterable[str], known: set[str]
) -> Iterator[Any]:
    """The rows of ``query`` about the subjects not ``known`` yet (500 to a query, without
    flushing what the batch changed); marks them known."""
    wanted = sorted(set(subjects) - known)
    with session.no_autoflush:
        for start in range(0, len(wanted), 500):
            yield from session.scalars(query.where(column.in_(wanted[start : start + 500])))
    known.update(wanted)


class DbMemory:
    """The engine's memory as ``alert_rule_subjects`` rows in the caller's session, kept in a
    dict for the batch. Loaded by subject (a camera, a report: every rule's row about it at once)
    — a batch touches a few hundred subjects but thousands of rule × subject pairs, and an IN of
    pairs cost more to build than to run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[int, str], RuleSubject] = {}
        self.known: set[str] = set()  # subjects loaded: their rows are in ``rows``, or none exist

    def load(self, subjects: Iterable[str]) -> None:
        # The context (the last event, JSON) is only ever replaced by an event, never read.
        query = select(RuleSubject).options(defer(RuleSubject.context))
        for row in _by_subject(self.session, query, RuleSubject.subject, subjects, self.known):
            self.rows[(row.rule_id, row.subject)] = row

    def get(self, rule_id: int, subject: str) -> RuleSubject | None:
        if subject not in self.known:
            self.load([subject])
        return self.rows.get((rule_id, subject))

    def add(self, rule_id: int, subject: str) -> RuleSubject:
        memory = RuleSubject(rule_id=rule_id, subject=subject, holds=False, streak=0,
                             raised=False, flaps=0, context={})  # fmt: skip
        self.session.add(memory)
        self.rows[(rule_id, subject)] = memory
        return memory

    def waiting(self) -> Iterator[RuleSubject]:
        yield from self.session.scalars(
            select(RuleSubject).where(
                or_(
                    RuleSubject.holds.is_(True) & RuleSubject.raised.is_(False),
                    RuleSubject.clear_since.is_not(None),
                )
            )
        )


class ActiveAlerts:
    """The active alerts by ``active_key`` (rule|subject), loaded by subject for a batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.found: dict[str, Alert] = {}
        self.known: set[str] = set()  # subjects loaded

    def load(self, subjects: Iterable[str]) -> None:
        # What a rule does to an active alert reads neither its context nor its detail.
        query = (
            select(Alert)
            .where(Alert.active_key.is_not(None))
            .options(defer(Alert.context), defer(Alert.detail))
        )
        for alert in _by_subject(self.session, query, Alert.subject, subjects, self.known):
            self.found[alert.active_key or ""] = alert

    def get(self, key: str) -> Alert | None:
        subject = key.split("|", 1)[1]
        if subject not in self.known:
            self.load([subject])
        return self.found.get(key)

    def put(self, key: str, alert: Alert | None) -> None:
        if alert is None:
            self.found.pop(key, None)
        else:
            self.found[key] = alert


@dataclass
class Batch:
    """What the events of one batch share: the engine, and what was loaded for them."""

    engine: RuleEngine
    memory: DbMemory
    active: ActiveAlerts
    units: UnitCodes
    # Deciding a whole batch at once: the notes and events of its alerts, taken as the alerts
    # were, written after one flush gives the new alerts their ids (not one flush per raise).
    told: list[Told] | None = None

    @classmethod
    def start(cls, session: Session) -> Batch:
        return cls(current_engine(session), DbMemory(session), ActiveAlerts(session),
                   UnitCodes(session))  # fmt: skip

    def load_for(
        self, events: Iterable[tuple[str, dict[str, Any]]], alerts: bool = True
    ) -> list[Touched]:
        """Loads the memory (and the active alerts, unless not ``alerts``) of every subject the
        events touch; returns what each touches, for ``evaluate`` not to find it again."""
        each = [self.engine.subjects_of(topic, payload) for topic, payload in events]
        subjects = {subject for touched in each for _, subject in touched}
        self.memory.load(subjects)
        if alerts:
            self.active.load(subjects)
        return each


class UnitCodes:
    """Units by code and by id, read once when first needed (113 rows)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_code: dict[str, tuple[int, str]] | None = None
        self._by_id: dict[int, tuple[str, str]] = {}

    def _load(self) -> dict[str, tuple[int, str]]:
        if self._by_code is None:
            rows = self.session.execute(select(Unit.code, Unit.id, Unit.name)).all()
            self._by_code = {code: (unit_id, name) for code, unit_id, name in rows}
            self._by_id = {unit_id: (code, name) for code, unit_id, name in rows}
        return self._by_code

    def id_of(self, code: str | None) -> int | None:
        found = self._load().get(code) if code is not None else None
        return found[0] if found else None

    def label(self, unit_id: int | None) -> tuple[str | None, str | None]:
        """(code, name) of a unit; (None, None) for the province as a whole."""
        self._load()
        return self._by_id.get(unit_id, (None, None)) if unit_id is not None else (None, None)
