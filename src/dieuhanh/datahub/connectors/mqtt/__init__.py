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

Known limit: messages are acknowledged when received, so a batch whose storing fails (the
database down) is lost from the broker; its raw payload is not kept either.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
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
        messages = asyncio.run(_drain(parsed, broker, f"dieuhanh-{context.source_code}"))
        if not messages:
            return
        body = b"".join(
            json.dumps(
                {"topic": topic, "payload": payload.decode("utf-8", "replace"), "at": at},
                ensure_ascii=False,
            ).encode()
            + b"\n"
            for topic, payload, at in messages
        )
        records = [
            {"topic": topic, "payload": _decoded(payload), "received_at": at}
            for topic, payload, at in messages
        ]
        reference = f"mqtt://{broker.host}:{broker.port} {', '.join(parsed.topics)}"
        yield Page(RESOURCE, reference, body, "application/x-ndjson", records)


async def _drain(
    config: MqttConfig, broker: Broker, client_id: str
) -> list[tuple[str, bytes, str]]:
    import aiomqtt

    got: list[tuple[str, bytes, str]] = []
    deadline = time.monotonic() + config.max_seconds
    try:
        async with aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username,
            password=broker.password,
            identifier=client_id,
            clean_session=False,
            timeout=10,
        ) as client:
            for topic in config.topics:
                await client.subscribe(topic, qos=1)
            incoming = client.messages.__aiter__()
            while len(got) < config.max_messages and time.monotonic() < deadline:
                wait = min(config.idle_seconds, max(deadline - time.monotonic(), 0.01))
                try:
                    message = await asyncio.wait_for(incoming.__anext__(), wait)
                except TimeoutError:
                    break
                payload = message.payload
                data = payload if isinstance(payload, bytes) else str(payload).encode()
                got.append((str(message.topic), data, datetime.now(UTC).isoformat()))
    except aiomqtt.MqttError as exc:
        raise SourceFailure(f"MQTT broker {broker.host}:{broker.port}: {exc}") from None
    return got


def _decoded(payload: bytes) -> Any:
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
