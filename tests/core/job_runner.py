"""A scheduler in its own process, for the cross-process test: ``python -m tests.core.job_runner
<database url>``. It runs one job every half second until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from dieuhanh.core.db.engine import make_engine, make_session_factory
from dieuhanh.core.jobs import Job, Scheduler

JOB_NAME = "runner-heartbeat"


def main(database_url: str) -> None:
    engine = make_engine(database_url)
    job = Job(JOB_NAME, 0.5, lambda: f"alive in {os.getpid()}", description="test runner")
    scheduler = Scheduler([job], make_session_factory(engine), poll_seconds=0.5)

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await scheduler.run(stop)

    try:
        asyncio.run(run())
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
