"""The MQTT connector: sensor readings (water level, rainfall, air quality) from a broker.

    kind: mqtt
    schedule: "* * * * *"
    config:
      broker: {host: 10.20.0.5, port: 1883, username: iot, password: "${DIEUHANH_SOURCE_MQTT}"}
      topics: ["dongnai/sensors/+/+"]
      mapping:
        readings:
          to: series
          device_topic_level: 2            # dongnai/sensors/<device>/<metric>
          metric_topic_level: 3
          value_field: payload.value
          time_field: payload.ts           # default: when the hub received it
          devices: {WL-001: "25280"}       # device → unit; or lat_field/lon_field → boundary

Each run connects with a persistent session (a fixed client id, ``clean_session`` off, QoS 1),
so the broker keeps what arrives between runs; it reads until no message has come for
``idle_seconds`` (or ``max_seconds``, ``max_messages``) and stores the batch. The messages are
kept as the run's payload (one JSON line each). Readings are unique per device, metric and
time, so a message the broker delivers twice is stored once.

The batch is acknowledged (PUBACK) only once it is stored: the connection stays open in a
thread of its own until then. A batch whose storing fails is not acknowledged: the run lets the
connection go at once, and the broker delivers the batch again to the next run (the next
connection with the same client id takes the session over; a connection left waiting gives up
after ``HOLD_SECONDS``). aiomqtt has no manual acknowledgement of its own: its paho client does
(``manual_ack``), reached as ``_client``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.network import NetworkRefused, resolve
from dieuhanh.datahub.connectors import FetchContext, Page, SourceFailure
from dieuhanh.datahub.mapping import parse_mappings
from dieuhanh.datahub.secrets import SecretMissing, check_references
from dieuhanh.datahub.secrets import resolve as resolve_secrets
from dieuhanh.datahub.spec import describe_errors

RESOURCE = "readings"
CONNECT_SECONDS = 10
HOLD_SECONDS = 120  # a batch not stored by then is left to the broker, for the next run


class Broker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=200)
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None


class MqttConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker: Broker
    topics: list[str] = Field(min_length=1, max_length=50)
    idle_seconds: float = Field(default=1.0, gt=0, le=60)
    max_seconds: float = Field(default=30.0, gt=0, le=600)
    max_messages: int = Field(default=10_000, ge=1, le=200_000)
    mapping: dict[str, Any] = Field(default_factory=dict)


class MqttConnector:
    kind = "mqtt"

    def check(self, config: dict[str, Any], where: str) -> None:
        try:
            parsed = MqttConfig.model_validate(config)
        except ValidationError as exc:
            raise InvalidInput(describe_errors(exc, where + "."), code="invalid_source") from None
        check_references(config.get("broker", {}), f"{where}.broker")
        for index, topic in enumerate(parsed.topics):
            if not topic or "#" in topic[:-1]:
                raise InvalidInput(
                    f"{where}.topics[{index}]: {topic!r} is not a topic filter ('#' only last)",
                    code="invalid_source",
                )
        parse_mappings(parsed.mapping, [RESOURCE], f"{where}.mapping")

    def resources(self, config: dict[str, Any]) -> list[str]:
        return [RESOURCE]

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        parsed = MqttConfig.model_validate(config)
        try:
            broker = Broker.model_validate(
                resolve_secrets(config["broker"], "config.broker", context.environ)
            )
        except SecretMissing as exc:
            raise SourceFailure(str(exc)) from None
        try:
            context.policy.check(broker.host, resolve(broker.host, broker.port))
        except NetworkRefused as exc:
            raise SourceFailure(exc.message) from None
        except OSError as exc:
            raise SourceFailure(f"cannot resolve {broker.host}: {exc}") from None
        subscription = Subscription(parsed, broker, f"dieuhanh-{context.source_code}")
        messages = subscription.received()
        if not messages:
            subscription.finish(acknowledge=False)
            return
        body = b"".join(
            json.dumps(
                {"topic": m.topic, "payload": m.payload.decode("utf-8", "replace"), "at": m.at},
                ensure_ascii=False,
            ).encode()
            + b"\n"
            for m in messages
        )
        records = [
            {"topic": m.topic, "payload": _decoded(m.payload), "received_at": m.at}
            for m in messages
        ]
        reference = f"mqtt://{broker.host}:{broker.port} {', '.join(parsed.topics)}"
        yield Page(
            RESOURCE, reference, body, "application/x-ndjson", records,
            stored=lambda: subscription.finish(acknowledge=True),
            abandoned=lambda: subscription.finish(acknowledge=False),
        )  # fmt: skip


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    at: str
    mid: int
    qos: int


class Subscription:
    """One connection to the broker, in a thread with its own event loop: it receives a batch,
    then waits, connected, to be told the batch was stored (acknowledge it) or not (leave it
    to the broker), at most ``HOLD_SECONDS``."""

    def __init__(self, config: MqttConfig, broker: Broker, client_id: str) -> None:
        self.config, self.broker, self.client_id = config, broker, client_id
        self.batch: Future[list[Received]] = Future()
        self.loop = asyncio.new_event_loop()
        self.acknowledge = False
        self.finished: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name=f"mqtt {client_id}", daemon=True)
        self.thread.start()

    def received(self) -> list[Received]:
        try:
            return self.batch.result(timeout=self.config.max_seconds + CONNECT_SECONDS * 2)
        except FutureTimeout:
            raise SourceFailure(
                f"MQTT broker {self.broker.host}:{self.broker.port}: no batch in time"
            ) from None

    def finish(self, *, acknowledge: bool) -> None:
        """Acknowledge the batch (or not) and disconnect."""
        self.acknowledge = acknowledge
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop has ended: it gave up waiting
            return
        self.thread.join(timeout=CONNECT_SECONDS)

    def _wake(self) -> None:
        if self.finished is not None:
            self.finished.set()

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._session())
        finally:
            self.loop.close()

    async def _session(self) -> None:
        import aiomqtt

        self.finished = asyncio.Event()
        broker = self.broker
        try:
            client = aiomqtt.Client(
                broker.host,
                broker.port,
                username=broker.username,
                password=broker.password,
                identifier=self.client_id,
                clean_session=False,
                timeout=CONNECT_SECONDS,
            )
            # Before connecting: what the broker kept for us comes right after CONNACK.
            client._client.manual_ack_set(True)
            async with client:
                for topic in self.config.topics:
                    await client.subscribe(topic, qos=1)
                got = await self._collect(client)
                self.batch.set_result(got)
                if not got:
                    return
                try:
                    await asyncio.wait_for(self.finished.wait(), HOLD_SECONDS)
                except TimeoutError:
                    return  # not stored in time: not acknowledged
                if self.acknowledge:
                    for message in got:
                        client._client.ack(message.mid, message.qos)
        except aiomqtt.MqttError as exc:
            if not self.batch.done():
                self.batch.set_exception(
                    SourceFailure(f"MQTT broker {broker.host}:{broker.port}: {exc}")
                )
        except BaseException as exc:  # handed to the run's thread
            if not self.batch.done():
                self.batch.set_exception(exc)
        finally:
            if not self.batch.done():
                self.batch.set_result([])

    async def _collect(self, client: Any) -> list[Received]:
        config = self.config
        got: list[Received] = []
        deadline = time.monotonic() + config.max_seconds
        incoming = client.messages.__aiter__()
        while len(got) < config.max_messages and time.monotonic() < deadline:
            wait = min(config.idle_seconds, max(deadline - time.monotonic(), 0.01))
            try:
                message = await asyncio.wait_for(incoming.__anext__(), wait)
            except TimeoutError:
                break
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            at = datetime.now(UTC).isoformat()
            got.append(Received(str(message.topic), data, at, message.mid, message.qos))
        return got


def _decoded(payload: bytes) -> Any:
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
