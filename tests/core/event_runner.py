"""A dispatcher in its own process, for the cross-process tests.

    python -m tests.core.event_runner DATABASE_URL LOG_FILE [--delay SECONDS] [--lifetime SECONDS]

Runs one subscriber, ``test.runner`` on ``test.*``, whose handler appends the event id to
LOG_FILE (outside the database: done again if the batch is not committed) and inserts a row into
``test_handled`` (inside it: exactly once), then sleeps ``--delay``. Stops on SIGTERM, or by itself
after ``--lifetime`` seconds so that it can never outlive a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from pathlib import Path

from sqlalchemy.orm import Session

from dieuhanh.core.db.engine import make_engine, make_session_factory
from dieuhanh.core.events import EventDispatcher, EventRecord, Subscription, bind_topics
from tests.core.kit import HANDLED, REGISTRY, create_handled_table

NAME = "test.runner"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("log_file", type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--lifetime", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    create_handled_table(engine)
    sessions = make_session_factory(engine)
    bind_topics(sessions, REGISTRY)
    log = args.log_file.open("a", encoding="utf-8")

    def handle(session: Session, record: EventRecord) -> None:
        log.write(f"{record.id}\n")
        log.flush()
        os.fsync(log.fileno())
        session.execute(HANDLED.insert().values(subscriber=NAME, event_id=record.id))
        if args.delay:
            time.sleep(args.delay)

    subscription = Subscription(
        NAME, ("test.*",), handle, start="earliest", batch_size=args.batch, batch_seconds=30
    )
    dispatcher = EventDispatcher(sessions, [subscription], REGISTRY, poll_seconds=0.05)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.call_later(args.lifetime, stop.set)
        await dispatcher.run(stop)

    try:
        asyncio.run(run())
    finally:
        log.close()
        engine.dispose()


if __name__ == "__main__":
    main()
