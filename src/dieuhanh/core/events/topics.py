"""Topics: the kinds of event, each declared by the capability that publishes it.

A topic has a dotted name (``camera.state_changed``), a pydantic model its payload must satisfy and
a sentence saying when it is published. The registry is built once at start from the topics every
capability declares (never a global filled at import), handed to the session factory so that
``publish`` can check each event, and listed at ``GET /api/v1/events/topics``.

Subscriptions and API readers name topics exactly or by a prefix pattern (``camera.*``); a pattern
that matches no declared topic is an error, so a typo does not silently subscribe to nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

TOPIC_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
TOPIC_MAX_LENGTH = 60  # the events.topic column


class EventError(ValueError):
    """An event or a topic name that cannot be accepted; the message says what and why."""


class UnknownTopic(EventError):
    pass


class PayloadMismatch(EventError):
    pass


@dataclass(frozen=True)
class Topic:
    name: str
    schema: type[BaseModel]
    description: str

    def __post_init__(self) -> None:
        if len(self.name) > TOPIC_MAX_LENGTH or not TOPIC_NAME.fullmatch(self.name):
            raise EventError(
                f"topic name {self.name!r} must be dotted lower-case words such as "
                f"'camera.state_changed', at most {TOPIC_MAX_LENGTH} characters"
            )
        if not self.description.strip():
            raise EventError(f"topic {self.name!r} needs a description")

    def json_schema(self) -> dict[str, Any]:
        return self.schema.model_json_schema()


def is_pattern(selector: str) -> bool:
    return selector.endswith(".*")


def matches(selector: str, topic: str) -> bool:
    """``selector`` is a topic name or a prefix pattern ``a.b.*`` (any topic under ``a.b.``)."""
    if is_pattern(selector):
        return topic.startswith(selector[:-1])
    return topic == selector


class TopicRegistry:
    """The declared topics of a process, by name."""

    def __init__(self, topics: Iterable[Topic] = ()) -> None:
        self._topics: dict[str, Topic] = {}
        for topic in topics:
            if topic.name in self._topics:
                raise EventError(f"topic {topic.name!r} is declared twice")
            self._topics[topic.name] = topic

    def __iter__(self) -> Iterator[Topic]:
        return iter(sorted(self._topics.values(), key=lambda topic: topic.name))

    def __len__(self) -> int:
        return len(self._topics)

    def names(self) -> list[str]:
        return sorted(self._topics)

    def get(self, name: str) -> Topic:
        topic = self._topics.get(name)
        if topic is None:
            raise UnknownTopic(f"unknown event topic {name!r}; declared topics: {self._listing()}")
        return topic

    def resolve(self, selector: str) -> list[str]:
        """The declared topics a name or pattern selects; an error when it selects none."""
        selected = [name for name in self.names() if matches(selector, name)]
        if not selected:
            raise UnknownTopic(
                f"{selector!r} names no declared event topic (give a topic name or a pattern "
                f"such as 'camera.*'); declared topics: {self._listing()}"
            )
        return selected

    def validate(self, name: str, payload: dict[str, Any] | BaseModel) -> dict[str, Any]:
        """The payload as stored (the schema's JSON form), or an error naming each bad field."""
        topic = self.get(name)
        try:
            if isinstance(payload, BaseModel):
                payload = payload.model_dump(mode="json")
            model = topic.schema.model_validate(payload)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(payload)'}: {error['msg']}"
                for error in exc.errors()
            )
            raise PayloadMismatch(
                f"payload of {name!r} does not match {topic.schema.__name__}: {problems}"
            ) from None
        return model.model_dump(mode="json")

    def _listing(self) -> str:
        return ", ".join(self.names()) or "(none)"
