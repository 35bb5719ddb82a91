"""Alerts (issue #13, "Speed"): events/s through rule evaluation with 500 rules and the
province's units, and the latency from an event to the alert on an open page.

(a) The engine alone (one process, memory in a dict): a stream of camera, source and citizen
    report events through 500 rules (each on one topic, a condition, one to three units for
    nineteen in twenty), against the same engine without its unit index (every rule of the
    topic checked against the event's unit, as first written) — goal ≥ 5,000 events/s.
(b) The durable path: the same events in the log, delivered by the real subscriber
    ``alerts.rules`` (memory and alerts in the database, one transaction per batch), then calm
    events (nothing to raise) — goal ≥ 5,000 events/s — against the same calm events handled one
    by one (the kernel's savepoint per event, without the subscriber's batch handler) and a
    subscriber that does nothing on the same topics (the kernel's own delivery cost).
(c) Event → alert on an open page: the app served on loopback, the real dispatcher running, a
    client on ``/api/v1/alerts/stream``; a camera goes dead (its event committed) and the time
    until the page's stream carries the alert is taken, p50/p95 — goal p95 under 1 s — against
    the same time for the bare stream (an ``alert.changed`` event committed directly: what the
    page's polling alone costs).

    .venv/bin/python bench/alerts.py [--events 20000] [--backend sqlite|postgresql] [--one-by-one]

``--one-by-one`` delivers (b) without the subscriber's batch handler (a savepoint per event, as
before it had one): run it alternately with the default to compare on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import uvicorn
from sqlalchemy import func, insert, or_, select
from throwaway import database_url  # bench/throwaway.py, beside this script

from dieuhanh.alerts import subscriber as alerts_subscriber
from dieuhanh.alerts.engine import CompiledRule, DictMemory, RuleEngine
from dieuhanh.alerts.models import Alert, AlertRule
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.service import store_rule
from dieuhanh.app import create_app
from dieuhanh.bootstrap import setup
from dieuhanh.capabilities import build_runtime
from dieuhanh.core.config import load_settings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord, Subscription, publish, run_dispatcher
from dieuhanh.core.events.cursors import ensure_subscribers
from dieuhanh.core.events.delivery import run_until_idle
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.models import Unit

DATABASE = "dieuhanh_bench_alerts"
PASSWORD = "bench-password-1"
RULES = 500
CAMERAS = 1000


def say(message: str) -> None:
    print(message, flush=True)


def make_runtime(url: str, folder: Path, poll: float) -> Runtime:
    key = "dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="
    settings = load_settings(database_url=url, data_dir=folder, admin_password=PASSWORD,
                             events={"poll_seconds": poll},
                             cameras={"credential_keys": [key]})  # fmt: skip
    runtime = build_runtime(settings)
    setup(runtime)
    return runtime


Stream = list[tuple[str, dict[str, Any]]]


def rule_specs(unit_codes: list[str], rng: random.Random) -> list[RuleSpec]:
    """500 rules as a province would write them: most about cameras and reports, each with a
    condition and, for nineteen in twenty, one to three units."""
    kinds = [
        ("camera.state_changed", "state == 'dead' and reason != 'unauthorized'",
         "state == 'live'", "camera:{camera_id}"),
        ("camera.state_changed", "state == 'dead' and reason in ('timeout', 'refused')",
         "state == 'live'", "camera:{camera_id}"),
        ("source.state_changed", "state == 'failing'", "state == 'live'", "source:{code}"),
        ("citizen_report.created", "urgent and category in ('flooding', 'security')", None,
         "report:{code}"),
        ("citizen_report.overdue", "status != 'resolved'", None, "report:{code}"),
    ]  # fmt: skip
    specs = []
    for n in range(RULES):
        topic, when, clear, subject = kinds[n % len(kinds)]
        units = None if rng.random() < 0.05 else rng.sample(unit_codes, rng.randint(1, 3))
        specs.append(RuleSpec.model_validate({
            "code": f"bench_{n:03d}", "name": f"Bench rule {n}", "topic": topic, "when": when,
            "clear": clear, "subject": subject, "units": units,
            "times": 1 + n % 3, "severity": ["critical", "major", "minor", "warning"][n % 4],
        }))  # fmt: skip
    return specs


def events(
    unit_codes: list[str], count: int, rng: random.Random
) -> list[tuple[str, dict[str, Any]]]:
    at = utcnow().isoformat()
    cameras = [(n, rng.choice(unit_codes)) for n in range(CAMERAS)]
    made: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        pick = rng.random()
        if pick < 0.7:
            camera_id, unit = rng.choice(cameras)
            state = "dead" if rng.random() < 0.1 else rng.choice(["live", "live", "unknown"])
            made.append(("camera.state_changed", {
                "camera_id": camera_id, "name": f"Camera {camera_id}", "unit_code": unit,
                "state": state, "previous_state": "live",
                "reason": rng.choice(["timeout", "refused", "unauthorized"]) if state == "dead"
                else None, "detail": None, "at": at}))  # fmt: skip
        elif pick < 0.8:
            made.append(("source.state_changed", {
                "code": f"src{n % 40}", "name": "Nguồn", "kind": "rest_api",
                "state": "failing" if rng.random() < 0.1 else "live", "previous_state": "live",
                "reason": None, "last_success_at": None, "at": at}))  # fmt: skip
        else:
            topic = rng.choice(["citizen_report.created", "citizen_report.overdue"])
            made.append((topic, {
                "code": f"PA-{n}", "category": rng.choice(["flooding", "security", "garbage"]),
                "category_name": "x", "status": "accepted", "urgent": rng.random() < 0.05,
                "channel": "web", "unit": rng.choice(unit_codes), "unit_name": "x", "lat": None,
                "lon": None, "due_at": at, "at": at}))  # fmt: skip
    return made


class ScanningEngine(RuleEngine):
    """The baseline: every rule of the topic checked against the event's unit."""

    def _applying(self, topic: str, payload: Mapping[str, Any]) -> Iterator[CompiledRule]:
        for rule in self.by_topic.get(topic, ()):
            name = rule.spec.unit or ("unit_code" if "unit_code" in payload else "unit")
            if rule.units is None or payload.get(name) in rule.units:
                yield rule


def engine_only(specs: list[RuleSpec], stream: Stream) -> tuple[float, float, int]:
    """(seconds with the unit index, seconds scanning, alerts raised)."""
    rules = [CompiledRule.build(n + 1, spec) for n, spec in enumerate(specs)]
    now = utcnow()
    timings, counts = [], []
    for kind in (ScanningEngine, RuleEngine):
        engine, memory, raised = kind(rules), DictMemory(), 0
        started = time.perf_counter()
        for topic, payload in stream:
            raised += sum(d.action == "raise" for d in engine.evaluate(topic, payload, now, memory))
        timings.append(time.perf_counter() - started)
        counts.append(raised)
    assert counts[0] == counts[1], "the index changed what is decided"
    return timings[1], timings[0], counts[1]


def fill_log(runtime: Runtime, stream: Stream) -> None:
    at = utcnow()
    with runtime.engine.begin() as connection:
        for start in range(0, len(stream), 2000):
            connection.execute(insert(EventRecord), [
                {"topic": topic, "payload": payload, "at": at, "unit_id": None}
                for topic, payload in stream[start:start + 2000]])  # fmt: skip


def durable(runtime: Runtime, subscription: Subscription) -> float:
    with runtime.sessions() as session:
        ensure_subscribers(session, [(subscription.name, subscription.topics, "earliest")])
        session.commit()
        horizon = session.scalar(select(EventRecord.id).order_by(EventRecord.id.desc()).limit(1))
    started = time.perf_counter()
    run_until_idle(runtime.sessions, subscription, horizon or 0, utcnow)
    return time.perf_counter() - started


@contextmanager
def served(runtime: Runtime, port: int) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    subscriptions = alerts_subscriber.subscriptions(runtime)
    dispatcher = threading.Thread(
        target=loop.run_until_complete, args=(run_dispatcher(runtime, subscriptions, stop),),
        daemon=True)  # fmt: skip
    dispatcher.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        dispatcher.join(timeout=10)
        server.should_exit = True
        thread.join(timeout=10)


def latency(runtime: Runtime, url: str, rounds: int) -> tuple[list[float], list[float]]:
    login = {"username": "admin", "password": PASSWORD}
    token = requests.post(f"{url}/api/v1/auth/token", json=login, timeout=10).json()["access_token"]
    response = requests.get(f"{url}/api/v1/alerts/stream", stream=True, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    lines = response.iter_lines(decode_unicode=True)
    for line in lines:  # wait for "ready"
        if line.startswith("event: ready"):
            break

    def wait_for(predicate: Any) -> float:
        for line in lines:
            if line.startswith("data:") and predicate(json.loads(line[5:])):
                return time.perf_counter()
        raise RuntimeError("stream ended")

    through_rules, bare = [], []
    unit = "25280"
    for n in range(rounds):
        camera_id = 100_000 + n
        with runtime.sessions() as session:
            publish(session, "camera.state_changed", {
                "camera_id": camera_id, "name": f"Cổng {camera_id}", "unit_code": unit,
                "state": "dead", "previous_state": "live", "reason": "timeout",
                "detail": None, "at": utcnow().isoformat()})  # fmt: skip
            started = time.perf_counter()
            session.commit()
        arrived = wait_for(lambda data, c=camera_id: data.get("subject") == f"camera:{c}")
        through_rules.append(arrived - started)
        with runtime.sessions() as session:  # the bare stream: an alert event written directly
            publish(session, "alert.changed", {
                "id": n, "rule": None, "subject": f"bare:{n}", "severity": "info",
                "state": "open", "title": "bare", "unit_code": None, "unit_name": None,
                "flapping": False, "action": "commented", "by": "bench",
                "at": utcnow().isoformat()})  # fmt: skip
            started = time.perf_counter()
            session.commit()
        arrived = wait_for(lambda data, n=n: data.get("subject") == f"bare:{n}")
        bare.append(arrived - started)
        time.sleep(random.uniform(0.05, 0.3))  # events do not arrive in step with the polling
    response.close()
    return through_rules, bare


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--one-by-one", action="store_true",
                        help="(b) without the batch handler: a savepoint per event")  # fmt: skip
    parser.add_argument("--poll", type=float, default=0.25,
                        help="events.poll_seconds (SQLite's dispatcher polls)")  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as folder:
        runtime = make_runtime(database_url(args.backend, Path(folder), DATABASE), Path(folder),
                               args.poll)  # fmt: skip
        with runtime.sessions() as session:  # the province's communes and departments
            province = session.scalars(
                select(Unit).where(Unit.code == runtime.settings.province_code)
            ).one()
            unit_codes = list(session.scalars(select(Unit.code).where(
                or_(Unit.parent_id == province.id, Unit.type == "department"))))  # fmt: skip
        specs = rule_specs(unit_codes, rng)
        stream = events(unit_codes, args.events, rng)
        say(f"{args.backend}: {len(specs)} rules, {len(unit_codes)} units, {len(stream):,} events")

        took, scanning, raised = engine_only(specs, stream)
        rate = len(stream) / took
        say(f"(a) engine alone: {rate:,.0f} events/s ({took * 1e6 / len(stream):.1f} µs an event, "
            f"{raised:,} alerts raised); scanning every rule of the topic: "
            f"{len(stream) / scanning:,.0f} events/s ({scanning / took:.1f}× slower) — goal "
            f"≥ 5,000/s: {'met' if rate >= 5000 else 'NOT met'}")  # fmt: skip

        with runtime.sessions() as session:
            for rule in session.scalars(select(AlertRule)):
                rule.enabled = False
            for spec in specs:
                store_rule(session, spec)
            session.commit()
        (rules_subscription,) = alerts_subscriber.subscriptions(runtime)
        if args.one_by_one:
            rules_subscription = dataclasses.replace(rules_subscription, batch_handler=None)
        quiet = [  # an ordinary hour: cameras and sources that are fine say so again
            (topic, {**payload, "state": "live", "reason": None, "camera_id": 50_000 + n}
             if topic == "camera.state_changed" else {**payload, "state": "live"})
            for n, (topic, payload) in enumerate(stream)
            if topic in ("camera.state_changed", "source.state_changed")
        ]  # fmt: skip
        passes = []
        for events_now in (stream, quiet):
            fill_log(runtime, events_now)
            with runtime.sessions() as session:
                alerts_before = session.scalar(select(func.count(Alert.id))) or 0
            seconds = durable(runtime, rules_subscription)
            with runtime.sessions() as session:
                raised_now = (session.scalar(select(func.count(Alert.id))) or 0) - alerts_before
            passes.append((len(events_now) / seconds, raised_now))
        # The baseline in the same run: calm events again (other cameras), one by one — a
        # savepoint per event, as before the batch handler. Favoured: nothing is left to clear.
        again = [
            (topic, {**payload, "camera_id": payload["camera_id"] + 20_000})
            if topic == "camera.state_changed" else (topic, payload)
            for topic, payload in quiet
        ]  # fmt: skip
        fill_log(runtime, again)
        one_by_one = len(again) / durable(
            runtime, dataclasses.replace(rules_subscription, batch_handler=None)
        )
        topics = tuple(t for t in runtime.topics.names() if not t.startswith("alert."))
        nothing = durable(runtime, Subscription("bench.nothing", topics, lambda s, e: None,
                                                batch_size=200))  # fmt: skip
        bare = (len(stream) + len(quiet) + len(again)) / nothing
        (busy, raised_busy), (calm, raised_calm) = passes
        say(f"(b) durable, through the subscriber alerts.rules: {busy:,.0f} events/s while "
            f"raising {raised_busy:,} alerts from {len(stream):,} events; {calm:,.0f} events/s "
            f"on {len(quiet):,} events that change nothing ({raised_calm} raised) — goal "
            f"≥ 5,000/s: {'met' if calm >= 5000 else 'NOT met'}; the same again one by one (a "
            f"savepoint per event): {one_by_one:,.0f} events/s ({calm / one_by_one:.1f}× slower); "
            f"a subscriber doing nothing: {bare:,.0f} events/s (the rules cost "
            f"{bare / calm:.1f}× and {bare / busy:.1f}× the kernel's own delivery)")  # fmt: skip

        with runtime.sessions() as session:  # (c) one immediate camera rule, the others off
            for rule in session.scalars(select(AlertRule)):
                rule.enabled = rule.code == "camera_dead"
                if rule.code == "camera_dead":
                    rule.definition = {**rule.definition, "for": None}
            session.commit()
        with served(runtime, 18_000 + rng.randint(0, 999)) as url:
            through_rules, bare = latency(runtime, url, args.rounds)
        p50, p95 = statistics.median(through_rules), percentile(through_rules, 0.95)
        bare50, bare95 = statistics.median(bare), percentile(bare, 0.95)
        say(f"(c) event → alert on an open page ({args.rounds} rounds, poll {args.poll}s): "
            f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms — goal p95 < 1 s: "
            f"{'met' if p95 < 1 else 'NOT met'}; the bare stream p50 {bare50 * 1000:.0f} ms, "
            f"p95 {bare95 * 1000:.0f} ms ({p50 / bare50:.1f}× at the median)")  # fmt: skip
        runtime.close()


if __name__ == "__main__":
    main()
