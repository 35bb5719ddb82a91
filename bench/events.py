"""Speed of the durable event stream on PostgreSQL: publish → log → a subscriber in another process.

In the same run, a baseline: the bare mechanism underneath — one INSERT + NOTIFY + COMMIT per
event, and a raw LISTEN connection in another process timing the wake-up — so that the figures
are ratios, not absolutes of this machine.

(a) latency from the publisher's commit to the handler being called, at 100 events/s offered
    (one event per transaction), p50/p95 — goal p95 under 200 ms — against the bare
    commit → NOTIFY wake-up at the same rate;
(b) the ceiling: offered rates rising until the subscriber falls behind or p95 passes 200 ms;
(c) throughput of a burst (events published as fast as one connection can commit them, 10 per
    transaction) through the subscriber, against the bare INSERT + NOTIFY commit rate.

    .venv/bin/python bench/events.py [--seconds 5]

Measured 2026-12-02 on the shared 2-CPU machine under a load average of 10–12 (other test suites
running; the figures move a lot between runs): bare commit rate 98–156/s (one WAL flush per
commit bounds every one-event-per-transaction figure); bare wake-up p50 8 ms / p95 23 ms timed
from the start of the commit; through the stream at 100/s offered p50 12–94 ms, p95 79–213 ms
(9–11× the bare wake-up); the publisher reached only 30–32 commits/s in those runs, which is the
ceiling found for one event per transaction; a burst of 5,000 (10 per transaction) went through
the subscriber at 127–190 events/s (1.3–1.8× the bare INSERT+NOTIFY commit rate). In-process,
the subscriber alone delivers 1,000 backlogged events in 0.66 s (~1,500/s).

A database ``dieuhanh_bench_events`` is created on 127.0.0.1:5432 (``DIEUHANH_BENCH_POSTGRES_URL``
to change the server) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time

import psycopg
from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from dieuhanh.capabilities import metadata
from dieuhanh.core.db import migrate
from dieuhanh.core.db.engine import make_engine, make_session_factory
from dieuhanh.core.events import (
    EventDispatcher,
    EventRecord,
    Subscription,
    Topic,
    TopicRegistry,
    bind_topics,
    publish,
)

ADMIN_URL = os.environ.get(
    "DIEUHANH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "dieuhanh_bench_events"
GOAL_P95_MS = 200.0


class Tick(BaseModel):
    n: int


REGISTRY = TopicRegistry([Topic("bench.tick", Tick, "A numbered tick, published by the bench.")])


def say(message: str) -> None:
    print(message, flush=True)


def bench_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# --- child processes ---------------------------------------------------------------------------


def run_subscriber(url: str) -> None:
    """The subscriber process: the handler writes the time it was called, with the cursor."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    bind_topics(sessions, REGISTRY)

    def handle(session: Session, record: EventRecord) -> None:
        session.execute(
            text("INSERT INTO bench_handled (event_id, at) VALUES (:id, :at)"),
            {"id": record.id, "at": time.time()},
        )

    subscription = Subscription(
        "bench.subscriber", ("bench.*",), handle, start="earliest", batch_size=200
    )
    dispatcher = EventDispatcher(sessions, [subscription], REGISTRY)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        asyncio.get_running_loop().call_later(600, stop.set)
        await dispatcher.run(stop)

    asyncio.run(main())


def run_raw_listener(url: str) -> None:
    """The baseline's listener: records when each notification (payload: a number) arrives."""
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute("LISTEN bench_raw")
        received: list[tuple[int, float]] = []
        for notification in connection.notifies(timeout=600):
            if notification.payload == "end":
                break
            if notification.payload != "x":
                received.append((int(notification.payload), time.time()))
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_raw_heard VALUES (%s, %s)", received)


def child(kind: str, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, __file__, f"--{kind}", url], env=env)


def wait_listening(engine: Engine, channel: str) -> None:
    """Until a connection of the bench database LISTENs on ``channel`` (bounded)."""
    deadline = time.monotonic() + 60
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            listening = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query = :query"
                ),
                {"query": f"LISTEN {channel}"},
            ).scalar_one()
            connection.rollback()
            if listening:
                return
            time.sleep(0.1)
    raise SystemExit(f"no process listens on {channel} after 60 s")


def finish(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- measurements ------------------------------------------------------------------------------


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


def paced(rate: float, seconds: float, send) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Call ``send(n)`` ``rate`` times a second; each returns (key, commit time)."""
    committed: dict[int, float] = {}
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        key, at = send(n)
        committed[key] = at
    return committed


def wait_handled(engine: Engine, table: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            done = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            connection.rollback()
            if done >= count:
                return
            time.sleep(0.05)
    raise SystemExit(f"the subscriber did not handle {count} events in {timeout} s")


def handled_at(engine: Engine, table: str) -> dict[int, float]:
    with engine.connect() as connection:
        return {int(k): float(v) for k, v in connection.execute(text(f"SELECT * FROM {table}"))}


def baseline(url: str, engine: Engine, rate: float, seconds: float) -> tuple[float, float, float]:
    listener = child("raw-listener", url)
    wait_listening(engine, "bench_raw")
    with psycopg.connect(psycopg_url(url)) as connection:

        def send(n: int) -> tuple[int, float]:
            connection.execute("INSERT INTO bench_raw (n) VALUES (%s)", (n,))
            connection.execute("SELECT pg_notify('bench_raw', %s)", (str(n),))
            sent = time.time()  # the commit starts: both paths are timed from here
            connection.commit()
            return n, sent

        committed = paced(rate, seconds, send)
        burst = 2000
        started = time.perf_counter()
        for n in range(burst):
            connection.execute("INSERT INTO bench_raw (n) VALUES (%s)", (n,))
            connection.execute("SELECT pg_notify('bench_raw', 'x')")
            connection.commit()
        raw_rate = burst / (time.perf_counter() - started)
        connection.execute("SELECT pg_notify('bench_raw', 'end')")
        connection.commit()
    listener.wait(timeout=60)
    heard = handled_at(engine, "bench_raw_heard")
    p50, p95 = percentiles([heard[n] - at for n, at in committed.items() if n in heard])
    return p50, p95, raw_rate


def publish_one(sessions, n: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        record = publish(session, "bench.tick", {"n": n})
        session.flush()
        sent = time.time()
        session.commit()
        return record.id, sent


def pipeline(  # type: ignore[no-untyped-def]
    engine: Engine, sessions, rate: float, seconds: float
) -> tuple[float, float, float, float]:
    """p50 and p95 latency (ms), the rate the publisher achieved and the rate delivered."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE bench_handled"))
    committed = paced(rate, seconds, lambda n: publish_one(sessions, n))
    wait_handled(engine, "bench_handled", len(committed))
    handled = handled_at(engine, "bench_handled")
    p50, p95 = percentiles([handled[key] - at for key, at in committed.items()])
    first, last = min(committed.values()), max(committed.values())
    published = len(committed) / max(last - first, 1e-9)
    return p50, p95, published, len(committed) / (max(handled.values()) - first)


def burst(engine: Engine, sessions, count: int) -> float:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE bench_handled"))
    started = time.time()
    for first in range(0, count, 10):
        with sessions() as session:
            for n in range(first, first + 10):
                publish(session, "bench.tick", {"n": n})
            session.commit()
    wait_handled(engine, "bench_handled", count)
    return count / (max(handled_at(engine, "bench_handled").values()) - started)


def main() -> None:
    metadata()  # every capability's tables: the events table's unit_id refers to units
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--subscriber")
    parser.add_argument("--raw-listener")
    args = parser.parse_args()
    if args.subscriber:
        return run_subscriber(args.subscriber)
    if args.raw_listener:
        return run_raw_listener(args.raw_listener)

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = bench_url()
    engine = make_engine(url)
    subscriber = None
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            for ddl in (
                "CREATE TABLE bench_handled (event_id integer, at double precision)",
                "CREATE TABLE bench_raw (id serial primary key, n integer)",
                "CREATE TABLE bench_raw_heard (n integer, at double precision)",
            ):
                connection.execute(text(ddl))
        sessions = make_session_factory(engine)
        bind_topics(sessions, REGISTRY)

        say(f"PostgreSQL, {os.cpu_count()} CPUs; {args.seconds:g} s per offered rate")
        raw_p50, raw_p95, raw_rate = baseline(url, engine, 100, args.seconds)
        say(
            f"baseline  INSERT+NOTIFY+COMMIT → raw LISTEN in another process, 100/s offered: "
            f"p50 {raw_p50:.2f} ms, p95 {raw_p95:.2f} ms; bare commit rate {raw_rate:.0f}/s"
        )

        subscriber = child("subscriber", url)
        wait_listening(engine, "dieuhanh_events")
        p50, p95, published, _ = pipeline(engine, sessions, 100, args.seconds)
        say(
            f"(a) publish → log → subscriber, 100/s offered: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(goal p95 < {GOAL_P95_MS:.0f} ms: {'met' if p95 < GOAL_P95_MS else 'MISSED'}); "
            f"{p50 / raw_p50:.1f}× / {p95 / raw_p95:.1f}× the bare wake-up; publisher "
            f"achieved {published:.0f}/s"
        )

        ceiling = 0.0
        for rate in (200, 400, 800, 1600):
            p50, p95, published, delivered = pipeline(engine, sessions, rate, args.seconds)
            say(
                f"    offered {rate}/s: published {published:.0f}/s, delivered {delivered:.0f}/s, "
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
            )
            if p95 >= GOAL_P95_MS or delivered < published * 0.9:
                break
            ceiling = max(ceiling, published)
            if published < rate * 0.9:
                say("    (the publisher commits no faster: one event per transaction is bound by")
                say("    the WAL flush, see the bare commit rate above)")
                break
        say(
            f"(b) ceiling (p95 < {GOAL_P95_MS:.0f} ms, one event per transaction): "
            f"{ceiling:.0f} events/s"
        )

        rate = burst(engine, sessions, 5000)
        say(
            f"(c) burst of 5,000 (10 per transaction) through the subscriber: {rate:.0f} events/s "
            f"= {rate / raw_rate:.2f}× the bare INSERT+NOTIFY commit rate"
        )
    finally:
        if subscriber is not None:
            finish(subscriber)
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
