"""Running a coroutine to completion from a synchronous test.

Playwright's sync API, used by the browser tests, leaves an event loop set on the main thread, so a
plain `asyncio.run` in a later test fails with "cannot be called from a running event loop". Each
coroutine therefore runs on a fresh loop in a thread of its own.
"""

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(asyncio.run(asyncio.wait_for(coroutine, timeout)))
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    runner = threading.Thread(target=target, name="test-event-loop")
    runner.start()
    runner.join(timeout + 10)
    if failure:
        raise failure[0]
    if not outcome:
        raise TimeoutError(f"coroutine still running after {timeout} s")
    return outcome[0]
