"""The durable event stream: the ``events`` table is the log every process reads.

A capability declares the topics it publishes (``Topic``) and publishes in its own transaction
(``publish``); subscribers (``Subscription``) are named, keep their cursor in the database and are
run by a dispatcher (``run_dispatcher`` / ``EventDispatcher``). See docs/events.md.
"""

from dieuhanh.core.events.cursors import (
    EventSubscriber,
    SubscriberStatus,
    resume,
    subscriber_statuses,
    topic_filter,
)
from dieuhanh.core.events.delivery import Outcome, Subscription, deliver_batch, run_until_idle
from dieuhanh.core.events.dispatcher import EventDispatcher, run_dispatcher
from dieuhanh.core.events.horizon import Horizon
from dieuhanh.core.events.log import CHANNEL, EventRecord, bind_topics, latest_event_id, publish
from dieuhanh.core.events.retention import trim_events
from dieuhanh.core.events.topics import (
    EventError,
    PayloadMismatch,
    Topic,
    TopicRegistry,
    UnknownTopic,
    matches,
)

__all__ = [
    "CHANNEL",
    "EventDispatcher",
    "EventError",
    "EventRecord",
    "EventSubscriber",
    "Horizon",
    "Outcome",
    "PayloadMismatch",
    "SubscriberStatus",
    "Subscription",
    "Topic",
    "TopicRegistry",
    "UnknownTopic",
    "bind_topics",
    "deliver_batch",
    "latest_event_id",
    "matches",
    "publish",
    "resume",
    "run_dispatcher",
    "run_until_idle",
    "subscriber_statuses",
    "topic_filter",
    "trim_events",
]
