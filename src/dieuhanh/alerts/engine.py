"""The rule engine: events in, decisions out (raise, seen again, clear).

It is pure: what it remembers of each rule × subject (since when the condition holds, how many
times in a row, whether its alert is up, when it last cleared) lives in a ``Memory`` store —
the database for the live subscriber (``alert_rule_subjects``), a dict for a backtest or the
benchmark — so the same code decides live, in tests with a fake clock, and over last quarter.

- **Pending** (``for: 30m``): a condition must still hold that long after it began; the
  subscriber's next event or the ``alerts.tick`` job raises it when the time has come.
- **Repeat** (``times: 3``): that many matching events in a row (a clearing event resets);
  with ``within: 1h``, that many within an hour of the first (a surge).
- **Flapping**: raised again within ``flap_minutes`` of clearing, it is the same alert reopened
  (no new notification), and from then on it resolves only after staying clear that long.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from dieuhanh.alerts.expressions import Condition, compile_condition
from dieuhanh.alerts.rules import RuleSpec

Action = Literal["raise", "seen", "clear"]
# The rules an event concerns, each with the subject it names: found once per event (to load
# their memory for a batch) and given to ``evaluate``.
Touched = list[tuple["CompiledRule", str]]


class _SafeFields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True)
class CompiledRule:
    id: int
    spec: RuleSpec
    when: Condition
    clear: Condition | None
    pending: timedelta
    flap: timedelta
    window: timedelta | None
    units: frozenset[str] | None
    uses_topic: bool  # a condition tests `topic`: the events are given it
    subject_key: tuple[str | None, str | None]  # rules with the same key name the same subject

    @classmethod
    def build(cls, rule_id: int, spec: RuleSpec) -> CompiledRule:
        when = compile_condition(spec.when)
        clear = compile_condition(spec.clear) if spec.clear else None
        return cls(
            id=rule_id, spec=spec, when=when, clear=clear, pending=spec.pending_for,
            flap=timedelta(minutes=spec.flap_minutes), window=spec.window,
            units=frozenset(spec.units) if spec.units else None,
            uses_topic="topic" in when.fields or (clear is not None and "topic" in clear.fields),
            subject_key=(spec.subject, None) if spec.subject else (None, spec.unit),
        )  # fmt: skip

    @property
    def code(self) -> str:
        return self.spec.code

    def subject_of(self, payload: Mapping[str, Any]) -> str:
        if self.spec.subject is None:  # one alert per unit, or one for the province
            return _unit(payload, self) or "province"
        return self.spec.subject.format_map(_SafeFields(payload))[:120]

    def title_of(self, payload: Mapping[str, Any]) -> str:
        if not self.spec.title:
            return self.spec.name
        return self.spec.title.format_map(_SafeFields(payload))[:300]


@dataclass
class Memory:
    """What a rule remembers of one subject (the database row has the same attributes)."""

    rule_id: int
    subject: str
    holds: bool = False
    since: datetime | None = None
    streak: int = 0
    raised: bool = False
    cleared_at: datetime | None = None
    clear_since: datetime | None = None
    flaps: int = 0
    unit_code: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


class MemoryStore(Protocol):
    def get(self, rule_id: int, subject: str) -> Any | None: ...
    def add(self, rule_id: int, subject: str) -> Any: ...
    def waiting(self) -> Iterable[Any]: ...


class DictMemory:
    """Memory in a dict: backtests and the benchmark."""

    def __init__(self) -> None:
        self.items: dict[tuple[int, str], Memory] = {}

    def get(self, rule_id: int, subject: str) -> Memory | None:
        return self.items.get((rule_id, subject))

    def add(self, rule_id: int, subject: str) -> Memory:
        memory = self.items[(rule_id, subject)] = Memory(rule_id, subject)
        return memory

    def waiting(self) -> Iterator[Memory]:
        for memory in self.items.values():
            if (memory.holds and not memory.raised) or memory.clear_since is not None:
                yield memory


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: CompiledRule
    subject: str
    unit_code: str | None
    at: datetime
    context: dict[str, Any]
    flapping: bool = False  # raise: the same alert comes back within the flap window


class RuleEngine:
    """The rules indexed by topic, and those limited to some units by unit too: an event is
    checked only against the rules that apply to it (with 500 rules, most limited to a few
    communes, looping over every rule of the topic cost more than the conditions)."""

    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self.rules = {rule.id: rule for rule in rules}
        self.by_topic: dict[str, list[CompiledRule]] = {}
        self._everywhere: dict[str, list[CompiledRule]] = {}
        # topic → the payload field naming the unit (None: unit_code or unit) → unit → rules
        self._by_unit: dict[str, dict[str | None, dict[str, list[CompiledRule]]]] = {}
        for rule in self.rules.values():
            for topic in rule.spec.topics:
                self.by_topic.setdefault(topic, []).append(rule)
                if rule.units is None:
                    self._everywhere.setdefault(topic, []).append(rule)
                    continue
                fields = self._by_unit.setdefault(topic, {}).setdefault(rule.spec.unit, {})
                for unit in rule.units:
                    fields.setdefault(unit, []).append(rule)

    def subjects_of(self, topic: str, payload: Mapping[str, Any]) -> Touched:
        """The (rule, subject) pairs an event touches: what to load before evaluating a batch.
        500 rules share a handful of subject templates, so each is formatted once an event."""
        by_template: dict[tuple[str | None, str | None], str] = {}
        touched: Touched = []
        for rule in self._applying(topic, payload):
            subject = by_template.get(rule.subject_key)
            if subject is None:
                subject = by_template[rule.subject_key] = rule.subject_of(payload)
            touched.append((rule, subject))
        return touched

    def _applying(self, topic: str, payload: Mapping[str, Any]) -> Iterator[CompiledRule]:
        yield from self._everywhere.get(topic, ())
        for unit_field, by_unit in self._by_unit.get(topic, {}).items():
            unit = _unit_in(payload, unit_field)
            if unit is not None:
                yield from by_unit.get(unit, ())

    def evaluate(
        self,
        topic: str,
        payload: Mapping[str, Any],
        at: datetime,
        memory: MemoryStore,
        touched: Touched | None = None,
    ) -> list[Decision]:
        """``touched``: the event's ``subjects_of``, when the caller has it already."""
        decisions: list[Decision] = []
        verdicts: dict[str, bool] = {}  # by condition text: rules sharing one test it once
        with_topic = {**payload, "topic": topic}
        for rule, subject in self.subjects_of(topic, payload) if touched is None else touched:
            values = with_topic if rule.uses_topic else payload
            if _test(rule.when, values, verdicts):
                decision = self._holds(rule, payload, at, memory, subject)
            else:
                # Only what is remembered can clear: the clear condition of a subject the rule
                # knows nothing of (most, in a calm hour) need not be tested.
                remembered = memory.get(rule.id, subject)
                if remembered is None or not (remembered.holds or remembered.raised):
                    continue
                if rule.clear is not None and not _test(rule.clear, values, verdicts):
                    continue  # neither (e.g. a camera gone "unknown"): nothing changes
                decision = self._clears(rule, payload, at, remembered)
            if decision is not None:
                decisions.append(decision)
        return decisions

    def _holds(
        self, rule: CompiledRule, payload: Mapping[str, Any], at: datetime, store: MemoryStore,
        subject: str,
    ) -> Decision | None:  # fmt: skip
        memory = store.get(rule.id, subject) or store.add(rule.id, subject)
        if not memory.holds or (rule.window is not None and at - memory.since > rule.window):
            memory.holds, memory.since, memory.streak = True, at, 0  # (a new window)
        memory.streak += 1
        memory.clear_since = None
        memory.unit_code = _unit(payload, rule)
        memory.context = dict(payload)
        memory.updated_at = at
        if memory.raised:
            return Decision("seen", rule, subject, memory.unit_code, at, memory.context)
        return self._raise_if_due(rule, memory, at)

    def _clears(
        self, rule: CompiledRule, payload: Mapping[str, Any], at: datetime, memory: Any
    ) -> Decision | None:
        """``memory``: what the rule remembers of the subject, holding or raised."""
        memory.holds, memory.since, memory.streak, memory.updated_at = False, None, 0, at
        if not memory.raised:
            return None  # it cleared while still pending: nothing was raised
        if memory.flaps and rule.flap > timedelta(0):
            memory.clear_since = memory.clear_since or at  # flapping: resolve once it stays clear
            return None
        return self._clear(rule, memory, at, dict(payload))

    def _raise_if_due(
        self, rule: CompiledRule, memory: Any, now: datetime, timed: bool = False
    ) -> Decision | None:
        """``timed``: time alone brings it (no event), so it was due when the pending period
        ended, however late the tick that noticed."""
        if memory.streak < rule.spec.times or memory.since + rule.pending > now:
            return None
        if timed:
            now = max(memory.since + rule.pending, memory.updated_at or memory.since)
        flapping = memory.cleared_at is not None and now - memory.cleared_at < rule.flap
        memory.raised, memory.clear_since = True, None
        if flapping:
            memory.flaps += 1
        return Decision("raise", rule, memory.subject, memory.unit_code, now,
                        dict(memory.context), flapping=flapping)  # fmt: skip

    def _clear(
        self, rule: CompiledRule, memory: Any, at: datetime, context: dict[str, Any]
    ) -> Decision:
        memory.raised, memory.cleared_at, memory.clear_since = False, at, None
        return Decision("clear", rule, memory.subject, memory.unit_code, at, context)

    def due(self, now: datetime, store: MemoryStore) -> list[Decision]:
        """Decisions time alone brings: pending periods over, flapping subjects settled."""
        decisions: list[Decision] = []
        for memory in list(store.waiting()):
            rule = self.rules.get(memory.rule_id)
            if rule is None:
                continue
            if memory.holds and not memory.raised:
                decision = self._raise_if_due(rule, memory, now, timed=True)
                if decision is not None:
                    decisions.append(decision)
            elif memory.clear_since is not None and memory.clear_since + rule.flap <= now:
                settled = memory.clear_since + rule.flap
                memory.flaps = 0
                decisions.append(self._clear(rule, memory, settled, dict(memory.context)))
        return decisions


def _test(condition: Condition, values: Mapping[str, Any], verdicts: dict[str, bool]) -> bool:
    verdict = verdicts.get(condition.text)
    if verdict is None:
        verdict = verdicts[condition.text] = condition(values)
    return verdict


def _unit(payload: Mapping[str, Any], rule: CompiledRule) -> str | None:
    return _unit_in(payload, rule.spec.unit)


def _unit_in(payload: Mapping[str, Any], field: str | None) -> str | None:
    """The unit's code: the rule's ``unit`` field, else the event's ``unit_code`` or ``unit``."""
    value = payload.get(field or ("unit_code" if "unit_code" in payload else "unit"))
    return str(value) if value is not None else None
