"""Event tests: the runtime publishes the test topics and has the handlers' table."""

from __future__ import annotations

import pytest

from dieuhanh.core.events import bind_topics
from dieuhanh.core.runtime import Runtime
from tests.core.kit import REGISTRY, create_handled_table


@pytest.fixture
def events_runtime(runtime: Runtime) -> Runtime:
    return with_test_topics(runtime)


def with_test_topics(runtime: Runtime) -> Runtime:
    runtime.topics = REGISTRY
    bind_topics(runtime.sessions, REGISTRY)
    create_handled_table(runtime.engine)
    return runtime
