"""A REST source's ``config``, in the key names of dlt's REST API source.

``client.base_url``, ``client.headers``, ``client.auth`` (``type``: bearer, http_basic, api_key,
oauth2_client_credentials), ``client.paginator`` / ``resources[].endpoint.paginator`` (``type``:
page_number, offset, cursor, json_link, header_link, single_page, auto), ``resources[].name``,
``resources[].primary_key``, ``resources[].endpoint.path``, ``.method``, ``.params``, ``.json``,
``.data_selector`` (JSONPath) and ``.incremental`` (``cursor_path``, ``start_param``,
``end_param``, ``initial_value``, ``end_value``). Ours: ``incremental.lookback_window`` (an ISO
8601 duration such as ``P2D``: records changed late are fetched again) and ``mapping``
(:mod:`dieuhanh.datahub.mapping`).

Paginators are built by dlt itself (``create_paginator``), so every option dlt documents works;
checking builds one, which turns a misspelt option into an error that names it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dieuhanh.core.errors import InvalidInput
from dieuhanh.datahub.connectors.http import http_url
from dieuhanh.datahub.secrets import check_references
from dieuhanh.datahub.spec import describe_errors

PAGINATOR_TYPES = (
    "page_number", "offset", "cursor", "json_link", "header_link", "header_cursor",
    "single_page", "auto",
)  # fmt: skip
AUTH_KEYS: dict[str, frozenset[str]] = {
    "bearer": frozenset({"token"}),
    "http_basic": frozenset({"username", "password"}),
    "api_key": frozenset({"name", "api_key", "location"}),
    "oauth2_client_credentials": frozenset(
        {"access_token_url", "client_id", "client_secret", "access_token_request_data",
         "default_token_expiration"}
    ),
}  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auth(_Strict):
    model_config = ConfigDict(extra="allow")

    type: Literal["bearer", "http_basic", "api_key", "oauth2_client_credentials"] = "bearer"


class Client(_Strict):
    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth | None = None
    paginator: dict[str, Any] | str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = http_url(value)
        return value if value.endswith("/") else value + "/"


class Incremental(_Strict):
    cursor_path: str
    start_param: str | None = None
    end_param: str | None = None
    initial_value: str | None = None
    end_value: str | None = None
    lookback_window: timedelta = timedelta(0)


class Endpoint(_Strict):
    path: str = ""
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, Any] = Field(default_factory=dict)
    json_body: dict[str, Any] | None = Field(default=None, alias="json")
    data_selector: str | None = None
    paginator: dict[str, Any] | str | None = None
    incremental: Incremental | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Resource(_Strict):
    name: str = Field(min_length=1, max_length=100)
    primary_key: str | list[str] | None = None
    endpoint: Endpoint = Field(default_factory=Endpoint)


class ResourceDefaults(_Strict):
    primary_key: str | list[str] | None = None
    endpoint: dict[str, Any] = Field(default_factory=dict)


class RestApiConfig(_Strict):
    client: Client
    resource_defaults: ResourceDefaults = Field(default_factory=ResourceDefaults)
    resources: list[Resource] = Field(min_length=1)
    mapping: dict[str, Any] = Field(default_factory=dict)

    def merged(self, resource: Resource) -> Resource:
        """The resource with ``resource_defaults`` under it (dlt's merge: the resource wins)."""
        endpoint = self.resource_defaults.endpoint | resource.endpoint.model_dump(
            exclude_unset=True, by_alias=True
        )
        return Resource.model_validate(
            {
                "name": resource.name,
                "primary_key": resource.primary_key or self.resource_defaults.primary_key,
                "endpoint": endpoint,
            }
        )

    def paginator_of(self, resource: Resource) -> dict[str, Any] | str | None:
        return resource.endpoint.paginator or self.client.paginator


def parse(config: dict[str, Any], where: str) -> RestApiConfig:
    try:
        parsed = RestApiConfig.model_validate(config)
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc, where + "."), code="invalid_source") from None
    check_references(config.get("client", {}), f"{where}.client")
    _check_auth(parsed.client.auth, f"{where}.client.auth")
    names = [resource.name for resource in parsed.resources]
    for index, resource in enumerate(parsed.resources):
        key = f"{where}.resources[{index}]"
        if names.count(resource.name) > 1:
            raise InvalidInput(
                f"{key}.name: {resource.name!r} is declared twice", code="invalid_source"
            )
        merged = parsed.merged(resource)
        paginator_key = (
            f"{key}.endpoint.paginator"
            if resource.endpoint.paginator
            else f"{where}.client.paginator"
        )
        check_paginator(parsed.paginator_of(merged), paginator_key)
    return parsed


def _check_auth(auth: Auth | None, key: str) -> None:
    if auth is None:
        return
    allowed = AUTH_KEYS[auth.type]
    for name in sorted(set(auth.model_extra or {}) - allowed):
        raise InvalidInput(
            f"{key}.{name}: not an option of auth type {auth.type} "
            f"(options: {', '.join(sorted(allowed))})",
            code="invalid_source",
        )


def check_paginator(paginator: dict[str, Any] | str | None, key: str) -> None:
    if paginator is None:
        return
    kind = paginator if isinstance(paginator, str) else paginator.get("type", "auto")
    if kind not in PAGINATOR_TYPES:
        raise InvalidInput(
            f"{key}.type: {kind!r} is not a paginator; use one of {', '.join(PAGINATOR_TYPES)}",
            code="invalid_source",
        )
    from dlt.sources.rest_api.config_setup import create_paginator

    try:
        create_paginator(paginator)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{key}: {_plain(exc)}", code="invalid_source") from None


def _plain(exc: Exception) -> str:
    # "PageNumberPaginator.__init__() got an unexpected keyword argument 'pagesize'" → the key.
    text = str(exc)
    if "unexpected keyword argument" in text:
        return "unknown option " + text.rsplit("argument", 1)[-1].strip()
    return text
