"""The REST API connector: dlt's ``RESTClient``, paginators and auth classes, driven by a
source's config (dlt's key names, :mod:`.config`) and fetched through the guarded session.

Incremental resources send ``start_param`` = the highest cursor value stored by the last
successful run, minus ``lookback_window`` (records updated late are fetched again; the runner
stores them only when they changed), or ``initial_value`` on the first run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from json import JSONDecodeError
from typing import Any

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.redact import scrub_url
from dieuhanh.datahub.connectors import FetchContext, Page, SourceFailure, highest
from dieuhanh.datahub.connectors.http import RequestRefused, guarded_session, http_failure
from dieuhanh.datahub.connectors.rest_api.config import Resource, RestApiConfig, parse
from dieuhanh.datahub.mapping import DatasetMapping, RecordProblem, parse_mappings, pick
from dieuhanh.datahub.secrets import SecretMissing, resolve


class RestApiConnector:
    kind = "rest_api"

    def check(self, config: dict[str, Any], where: str) -> None:
        parsed = parse(config, where)
        mappings = parse_mappings(parsed.mapping, self.resources(config), f"{where}.mapping")
        for resource in parsed.resources:
            mapping = mappings[resource.name]
            if isinstance(mapping, DatasetMapping) and not (
                mapping.primary_key or parsed.merged(resource).primary_key
            ):
                raise InvalidInput(
                    f"{where}.mapping.{resource.name}.primary_key: a dataset needs the field "
                    "that identifies a record (or resources[].primary_key)",
                    code="invalid_source",
                )

    def resources(self, config: dict[str, Any]) -> list[str]:
        return [resource.get("name", "") for resource in config.get("resources", [])]

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        from dlt.common.configuration.specs import RuntimeConfiguration
        from dlt.sources.helpers.rest_client.client import RESTClient
        from dlt.sources.rest_api.config_setup import create_auth, create_paginator

        parsed = RestApiConfig.model_validate(config)
        client = parsed.client
        try:
            headers = resolve(client.headers, "config.client.headers", context.environ)
            auth_config = (
                resolve(client.auth.model_dump(), "config.client.auth", context.environ)
                if client.auth
                else None
            )
        except SecretMissing as exc:
            raise SourceFailure(str(exc)) from None
        # Closed when the run ends, or its keep-alive connections stay open until collected.
        with guarded_session(context.policy, client.base_url, context.settings) as session:
            rest = RESTClient(
                base_url=client.base_url,
                headers=headers,
                auth=create_auth(auth_config),
                session=session,
                config=RuntimeConfiguration(),
            )
            scrub = _Scrubber(auth_config, headers)
            for declared in parsed.resources:
                resource = parsed.merged(declared)
                paginator = create_paginator(parsed.paginator_of(resource))  # type: ignore[arg-type]
                yield from _pages(rest, resource, paginator, context, scrub)


class _Scrubber:
    """URLs as stored and shown: with the source's resolved secrets masked wherever they are."""

    def __init__(self, auth: dict[str, Any] | None, headers: dict[str, str]) -> None:
        values = list((auth or {}).values()) + list(headers.values())
        self.secrets = [value for value in values if isinstance(value, str) and len(value) >= 6]

    def __call__(self, url: str) -> str:
        return scrub_url(url, self.secrets)


def _pages(
    rest: Any, resource: Resource, paginator: Any, context: FetchContext, scrub: _Scrubber
) -> Iterator[Page]:
    import requests

    endpoint = resource.endpoint
    params = dict(endpoint.params)
    incremental = endpoint.incremental
    if incremental is not None and incremental.start_param:
        start = _start_value(context.cursor.get(resource.name), incremental.lookback_window)
        start = start or incremental.initial_value
        if start is not None:
            params[incremental.start_param] = start
        if incremental.end_param and incremental.end_value:
            params[incremental.end_param] = incremental.end_value
    where = f"resource {resource.name!r}"
    url = rest.base_url + endpoint.path.lstrip("/")
    try:
        for page in rest.paginate(
            endpoint.path,
            method=endpoint.method,
            params=params,
            json=endpoint.json_body,
            paginator=paginator,
            data_selector=endpoint.data_selector,
        ):
            response = page.response
            url = response.url
            records = list(page)
            if not records and endpoint.data_selector:
                _check_layout(response, endpoint.data_selector)
            cursor = None
            if incremental is not None:
                cursor = highest(_cursor_values(records, incremental.cursor_path))
            yield Page(
                resource=resource.name,
                reference=scrub(response.url),
                body=response.content,
                content_type=response.headers.get("Content-Type"),
                records=records,
                cursor=cursor,
                primary_key=resource.primary_key,
            )
    except SourceFailure as exc:
        raise SourceFailure(f"{where}: {scrub(url)}: {exc}") from None
    except (RequestRefused, requests.RequestException) as exc:
        raise SourceFailure(f"{where}: {http_failure(exc, scrub(url), context.settings)}") from None
    except JSONDecodeError as exc:
        raise SourceFailure(f"{where}: {scrub(url)} did not answer JSON ({exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        # dlt's paginators and selectors: a total_path or cursor_path the page does not have.
        raise SourceFailure(
            f"{where}: the answer of {scrub(url)} has changed shape: {exc}"
        ) from None


def _check_layout(response: Any, selector: str) -> None:
    """An empty page is normal; an answer without the declared selector means the API changed,
    which must fail the run rather than quietly store nothing."""
    from dlt.common import jsonpath

    if not jsonpath.find_values(selector, response.json()):
        raise SourceFailure(
            f"the answer has no {selector!r} (data_selector): has the API's layout changed?"
        )


def _cursor_values(records: list[Any], path: str) -> list[str]:
    values = []
    for record in records:
        try:
            value = pick(record, path)
        except RecordProblem:
            continue
        if value is not None:
            values.append(str(value))
    return values


def _start_value(stored: str | None, lookback: timedelta) -> str | None:
    """The stored cursor moved back by the look-back window, written as the source writes it."""
    if stored is None or not lookback:
        return stored
    try:
        moment = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    except ValueError:
        return stored  # not a time: the window does not apply
    earlier = (moment - lookback).isoformat()
    return earlier.replace("+00:00", "Z") if stored.endswith("Z") else earlier
