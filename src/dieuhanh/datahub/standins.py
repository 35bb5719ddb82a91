"""Local stand-ins for the province's systems, for `dieuhanh demo` and the tests.

iGate (the public-service dossier system) answers dossiers as JSON pages with a cursor and
monthly statistics per commune; the stand-in grows as time passes (a few dossiers arrive and
some finish every ``grow_every`` seconds), so a new user sees live syncing. Faults can be queued
(429 with Retry-After, 500, a body that is not JSON, a changed layout, a hang) to show how runs
fail and recover. A real HTTP server on loopback: the connector under test stays real.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PROCEDURES = (
    ("Đăng ký khai sinh", "Hộ tịch", 1),
    ("Chứng thực bản sao từ bản chính", "Chứng thực", 1),
    ("Đăng ký kết hôn", "Hộ tịch", 3),
    ("Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", 15),
    ("Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3),
    ("Đăng ký biến động quyền sử dụng đất", "Đất đai", 10),
    ("Xác nhận tình trạng hôn nhân", "Hộ tịch", 3),
    ("Giải quyết trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", 7),
)
CHANNELS = ("Trực tuyến", "Trực tiếp", "Bưu chính công ích")


class _Served:
    """A stand-in's HTTP server on loopback, in a thread; ``_answer`` handles each GET."""

    _server: ThreadingHTTPServer | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._answer(self)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        name = type(self).__name__
        threading.Thread(target=self._server.serve_forever, daemon=True, name=name).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError


class _Growing(_Served):
    """A stand-in whose data moves as time passes: ``grow`` at most once every ``grow_every``
    seconds (None: never), checked when a request comes in."""

    grow_every: float | None
    _last_growth: float

    def grow(self) -> None:
        raise NotImplementedError

    def _maybe_grow(self) -> None:
        if self.grow_every and time.monotonic() - self._last_growth >= self.grow_every:
            self._last_growth = time.monotonic()
            self.grow()


@dataclass
class IGateStandIn(_Growing):
    """``communes``: (official code, name) of the units dossiers are filed in."""

    communes: list[tuple[str, str]]
    dossiers: int = 400
    page_size: int = 50
    seed: int = 75
    token: str | None = None  # when set, requests need "Authorization: Bearer <token>"
    grow_every: float | None = None
    faults: list[str] = field(default_factory=list)  # consumed one per request
    requests: list[str] = field(default_factory=list)  # paths with queries, in order

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._last_growth = time.monotonic()
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=90)
        for index in range(self.dossiers):
            received = start + timedelta(minutes=index * 90 * 24 * 60 // max(self.dossiers, 1))
            self._records.append(self._dossier(index + 1, received))

    # -- data ------------------------------------------------------------------------------

    def _dossier(self, number: int, received: datetime) -> dict[str, Any]:
        pick = self._random
        code, name = self.communes[pick.randrange(len(self.communes))]
        procedure, field_name, days = PROCEDURES[pick.randrange(len(PROCEDURES))]
        due = received + timedelta(days=days)
        finished: datetime | None = None
        if due < datetime.now(UTC) or pick.random() < 0.5:
            finished = received + timedelta(hours=pick.randint(2, int(days * 24 * 1.3) + 2))
            if finished > datetime.now(UTC).replace(microsecond=0):
                finished = None  # not yet: still being handled
        return {
            "ma_ho_so": f"000.00.75.{code}-{received:%y%m%d}-{number:04d}",
            "thu_tuc": procedure,
            "linh_vuc": field_name,
            "don_vi": {"ma": code, "ten": name},
            "kenh_nop": CHANNELS[pick.randrange(len(CHANNELS))],
            "ngay_tiep_nhan": received.isoformat(),
            "han_xu_ly": due.isoformat(),
            "ngay_hoan_thanh": finished.isoformat() if finished else None,
            "trang_thai": self._status(due, finished),
            "cap_nhat_luc": (finished or received).isoformat(),
        }

    @staticmethod
    def _status(due: datetime, finished: datetime | None) -> str:
        if finished is None:
            return "Đang xử lý" if due >= datetime.now(UTC) else "Quá hạn"
        return "Đã trả kết quả" if finished <= due else "Trả kết quả trễ hạn"

    def grow(self, arrivals: int = 2, finishes: int = 2) -> None:
        """Time passes: dossiers arrive, open ones finish (their update time moves)."""
        with self._lock:
            now = datetime.now(UTC).replace(microsecond=0)
            for _ in range(arrivals):
                self._records.append(self._dossier(len(self._records) + 1, now))
            open_ones = [r for r in self._records if r["ngay_hoan_thanh"] is None]
            for record in self._random.sample(open_ones, min(finishes, len(open_ones))):
                record["ngay_hoan_thanh"] = now.isoformat()
                record["cap_nhat_luc"] = now.isoformat()
                record["trang_thai"] = self._status(
                    datetime.fromisoformat(record["han_xu_ly"]), now
                )

    def dossier_page(self, query: dict[str, str]) -> dict[str, Any]:
        since = query.get("updated_since")
        with self._lock:
            records = sorted(self._records, key=lambda r: (r["cap_nhat_luc"], r["ma_ho_so"]))
        if since:
            bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
            records = [r for r in records if datetime.fromisoformat(r["cap_nhat_luc"]) >= bound]
        offset = int(query.get("cursor") or 0)
        page = records[offset : offset + self.page_size]
        following = offset + self.page_size
        return {
            "data": page,
            "next_cursor": str(following) if following < len(records) else None,
            "total": len(records),
        }

    def monthly_statistics(self, month: str) -> dict[str, Any]:
        """Dossiers received in a month per commune and channel (online, or in person and by
        post), as iGate's statistics API reports them."""
        with self._lock:
            received = Counter(
                (r["don_vi"]["ma"], "ONLINE" if r["kenh_nop"] == CHANNELS[0] else "IN_PERSON")
                for r in self._records
                if _month(r["ngay_tiep_nhan"]) == month
            )
        return {
            "items": [
                {"thang": month, "ma_don_vi": code, "kenh": channel, "so_ho_so_tiep_nhan": count}
                for (code, channel), count in sorted(received.items())
            ]
        }

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.requests.append(handler.path)
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and self._fault(handler, fault):
            return
        if self.token and handler.headers.get("Authorization") != f"Bearer {self.token}":
            return _send(handler, 401, {"error": "Thiếu hoặc sai mã truy cập"})
        self._maybe_grow()
        if parts.path == "/api/v1/dossiers":
            return _send(handler, 200, self.dossier_page(query))
        if parts.path == "/api/v1/statistics/monthly":
            month = query.get("thang") or datetime.now(UTC).strftime("%Y%m")
            return _send(handler, 200, self.monthly_statistics(month))
        _send(handler, 404, {"error": "Không tìm thấy"})

    def _fault(self, handler: BaseHTTPRequestHandler, fault: str) -> bool:
        if fault == "429":
            _send(handler, 429, {"error": "Quá nhiều yêu cầu"}, {"Retry-After": "1"})
        elif fault == "500":
            _send(handler, 500, {"error": "Lỗi máy chủ"})
        elif fault == "bad_json":
            _send_raw(handler, 200, b'{"data": [{"ma_ho_so": "1"', "application/json")
        elif fault == "layout":
            _send(handler, 200, {"ket_qua": {"danh_sach": []}})
        elif fault.startswith("hang:"):
            time.sleep(float(fault[5:]))
            _send(handler, 200, {"data": [], "next_cursor": None})
        else:
            return False
        return True


@dataclass
class Nq57StandIn(_Served):
    """The Resolution 57 monitoring site (science, technology, innovation and digital
    transformation): a web page, no API. A table of the communes' task progress and two
    summary figures, numbers written the Vietnamese way (62,5)."""

    communes: list[tuple[str, str]]
    seed: int = 57
    layout_changed: bool = False  # the site was redesigned: the table's id is gone

    def __post_init__(self) -> None:
        pick = random.Random(self.seed)
        self.rows = []
        for code, name in self.communes:
            tasks = pick.randint(8, 24)
            self.rows.append((code, name, tasks, pick.randint(0, tasks)))

    def page(self) -> str:
        table_id = "bang-tien-do-moi" if self.layout_changed else "tien-do"
        body = "".join(
            f"<tr><td>{index}</td><td>{code}</td><td>{name}</td><td>{tasks}</td>"
            f"<td>{done}</td><td>{100 * done / tasks:.1f}".replace(".", ",")
            + "</td></tr>"
            for index, (code, name, tasks, done) in enumerate(self.rows, start=1)
        )
        total = sum(row[2] for row in self.rows)
        done = sum(row[3] for row in self.rows)
        return (
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<title>Theo dõi thực hiện Nghị quyết 57-NQ/TW</title></head><body>"
            "<h1>Tiến độ thực hiện Nghị quyết 57-NQ/TW trên địa bàn tỉnh</h1>"
            f"<p id='ky'>Kỳ báo cáo: <span class='so'>{datetime.now(UTC):%m/%Y}</span></p>"
            f"<div id='tong'>Tổng số nhiệm vụ: <b class='so'>{total:,}</b></div>".replace(",", ".")
            + f"<div id='xong'>Đã hoàn thành: <b class='so'>{done:,}</b></div>".replace(",", ".")
            + f"<table id='{table_id}' class='table'><thead><tr><th>STT</th><th>Mã đơn vị</th>"
            "<th>Đơn vị</th><th>Số nhiệm vụ</th><th>Đã hoàn thành</th><th>Tỷ lệ (%)</th></tr>"
            f"</thead><tbody>{body}</tbody></table></body></html>"
        )

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        if urlsplit(handler.path).path != "/tien-do":
            return _send(handler, 404, {"error": "Không tìm thấy"})
        _send_raw(handler, 200, self.page().encode(), "text/html; charset=utf-8")


HOTLINE_TOPICS = (
    ("Đường hư hỏng, ổ gà", "Giao thông"),
    ("Đèn đường không sáng", "Hạ tầng đô thị"),
    ("Rác thải tồn đọng", "Môi trường"),
    ("Ngập nước sau mưa", "Thoát nước"),
    ("Lấn chiếm vỉa hè", "Trật tự đô thị"),
    ("Chậm giải quyết hồ sơ", "Hành chính công"),
    ("Tiếng ồn kéo dài ban đêm", "An ninh trật tự"),
)
HOTLINE_STATES = ("Mới tiếp nhận", "Đã chuyển xử lý", "Đang xử lý", "Đã trả lời")
ANSWERED = len(HOTLINE_STATES) - 1
# One case in fifteen stalls with its unit: still open weeks later, late in the IOC as well.
HOTLINE_STALLED = 1 / 15


@dataclass
class HotlineStandIn(_Growing):
    """The 1022 hotline's case system: calls and messages as JSON pages numbered from 1
    (``?page=&page_size=``, with ``total_pages``). A case moves through the hotline's states at
    its own pace, drawn per seed when it arrives — forwarded to the unit within a day and a
    half, taken up within two days more, answered within six more, or stalled — so its state
    follows its age: old cases answered (a few stalled: late), the last days' ones new or in
    progress. With ``grow_every`` time passes: a call arrives, an open case moves on, and every
    case shows the state its pace has reached (``cap_nhat_luc``: since when)."""

    communes: list[tuple[str, str]]
    cases: int = 150
    seed: int = 1022
    grow_every: float | None = None
    now: datetime | None = None  # the moment the cases are seen from (tests); default: now

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._last_growth = time.monotonic()
        self._names = dict(self.communes)
        # when each case reached (or will reach) each state; None: not at its pace (stalled)
        self._paces: list[list[datetime | None]] = []
        self.records: list[dict[str, Any]] = []
        now = self.now or datetime.now(UTC).replace(microsecond=0)
        for number in range(1, self.cases + 1):  # one every 7 hours, the last 2 hours ago
            self._arrive(now - timedelta(hours=2 + (self.cases - number) * 7), now)

    def _arrive(self, received: datetime, now: datetime) -> None:
        pick = self._random
        code, name = self.communes[pick.randrange(len(self.communes))]
        topic, field_name = HOTLINE_TOPICS[pick.randrange(len(HOTLINE_TOPICS))]
        self.records.append(
            {
                "ma_phan_anh": f"1022-{len(self.records) + 1:06d}",
                "tieu_de": f"{topic} tại {name}",
                "linh_vuc": field_name,
                "kenh": pick.choice(("Tổng đài 1022", "Zalo", "Ứng dụng Đồng Nai S")),
                "ma_xa": code,
                "thoi_gian": received.isoformat(),
            }
        )
        self._paces.append(self._pace(received))
        self._show(len(self.records) - 1, now)

    def _pace(self, received: datetime) -> list[datetime | None]:
        pick = self._random
        forwarded = received + timedelta(minutes=pick.randint(60, 36 * 60))
        started = forwarded + timedelta(minutes=pick.randint(60, 48 * 60))
        answered = started + timedelta(minutes=pick.randint(6 * 60, 6 * 24 * 60))
        stalled = pick.random() < HOTLINE_STALLED
        return [received, forwarded, started, None if stalled else answered]

    def _reached(self, index: int, now: datetime) -> int:
        pace = self._paces[index]
        return max(step for step, at in enumerate(pace) if at is not None and at <= now)

    def _show(self, index: int, now: datetime) -> None:
        """The case as the hotline shows it at ``now``: the last state its pace reached."""
        reached = self._reached(index, now)
        record, at = self.records[index], self._paces[index][reached]
        assert at is not None
        record["trang_thai"] = HOTLINE_STATES[reached]
        record["cap_nhat_luc"] = at.isoformat()
        if reached == ANSWERED:
            name = self._names.get(record["ma_xa"], "đơn vị")
            record["ket_qua"] = f"Đã chuyển {name} kiểm tra, xử lý; đã trả lời người phản ánh."

    def grow(self, arrivals: int = 1, moves: int = 1, now: datetime | None = None) -> None:
        """Time passes (until ``now``): calls arrive, open cases move one state on (a stalled
        one too, at last), and every case shows the state its pace has reached."""
        with self._lock:
            now = now or datetime.now(UTC).replace(microsecond=0)
            for _ in range(arrivals):
                self._arrive(now, now)
            open_ones = [i for i in range(len(self.records)) if self._reached(i, now) < ANSWERED]
            for index in self._random.sample(open_ones, min(moves, len(open_ones))):
                self._paces[index][self._reached(index, now) + 1] = now
            for index in range(len(self.records)):
                self._show(index, now)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path != "/api/cases":
            return _send(handler, 404, {"error": "Không tìm thấy"})
        self._maybe_grow()
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        size = max(1, min(int(query.get("page_size") or 50), 200))
        page = max(1, int(query.get("page") or 1))
        with self._lock:
            chunk = [dict(record) for record in self.records[(page - 1) * size : page * size]]
            total_pages = -(-len(self.records) // size)
        _send(handler, 200, {"items": chunk, "page": page, "total_pages": total_pages})


class SensorPublisher:
    """Field sensors publishing to an MQTT broker every ``every`` seconds: water level at river
    stations and rainfall, as ``<prefix>/<device>/<metric>`` with ``{"value", "ts"}``."""

    def __init__(self, devices: dict[str, str], host: str, port: int, prefix: str) -> None:
        self.devices, self.host, self.port, self.prefix = devices, host, port, prefix
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._random = random.Random(7)

    def start(self, every: float = 10.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(every,), name="sensor-publisher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, every: float) -> None:
        level = dict.fromkeys(self.devices, 1.5)
        while not self._stop.is_set():
            now = datetime.now(UTC).replace(microsecond=0).isoformat()
            messages: list[Any] = []
            for device in self.devices:
                metric = "rainfall" if device.startswith("RF") else "water_level"
                if metric == "water_level":
                    level[device] = max(0.2, level[device] + self._random.uniform(-0.1, 0.15))
                    value = round(level[device], 2)
                else:
                    value = round(max(0.0, self._random.gauss(2, 3)), 1)
                payload = json.dumps({"value": value, "ts": now})
                messages.append((f"{self.prefix}/{device}/{metric}", payload))
            # The broker went away (refused, or a publish paho could not queue): again at the
            # next tick.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                self._publish(messages)
            self._stop.wait(every)

    def _publish(self, messages: list[tuple[str, str]]) -> None:
        """One connection per tick, each message at QoS 1 and waited for. Not paho's
        ``publish.multiple``: paho 2.2 logs "Client is not connected" as an ERROR after every
        clean disconnect of it, a line every tick in the demo's console."""
        from paho.mqtt.client import Client
        from paho.mqtt.enums import CallbackAPIVersion

        client = Client(CallbackAPIVersion.VERSION2)
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        try:
            for topic, payload in messages:
                client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
        finally:
            client.disconnect()
            client.loop_stop()


def mqtt_source(host: str, port: int, prefix: str, devices: dict[str, str]) -> dict[str, Any]:
    """The ready-made source that reads the sensors' broker every minute."""
    return {
        "code": "sensors_mqtt",
        "name": "Cảm biến mực nước, lượng mưa (MQTT)",
        "kind": "mqtt",
        "schedule": "* * * * *",
        "freshness": {"max_age_minutes": 10},
        "config": {
            "broker": {"host": host, "port": port},
            "topics": [f"{prefix}/+/+"],
            "mapping": {
                "readings": {
                    "to": "series",
                    "device_topic_level": prefix.count("/") + 1,
                    "metric_topic_level": prefix.count("/") + 2,
                    "value_field": "payload.value",
                    "time_field": "payload.ts",
                    "devices": devices,
                }
            },
        },
    }


def _month(moment: str) -> str:
    return moment[:4] + moment[5:7]


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    _send_raw(handler, status, data, "application/json; charset=utf-8", headers)


def _send_raw(
    handler: BaseHTTPRequestHandler,
    status: int,
    data: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a timeout): nothing to answer


def igate_source(base_url: str, *, schedule: str | None = "* * * * *") -> dict[str, Any]:
    """The ready-made source declaration that syncs from the iGate stand-in (demo and tests)."""
    return {
        "code": "igate_dossiers",
        "name": "Hồ sơ thủ tục hành chính (iGate)",
        "kind": "rest_api",
        "schedule": schedule,
        "freshness": {"max_age_minutes": 30},
        "config": {
            "client": {
                "base_url": base_url + "api/v1/",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_cursor",
                    "cursor_param": "cursor",
                },
            },
            "resources": [
                {
                    "name": "dossiers",
                    "primary_key": "ma_ho_so",
                    "endpoint": {
                        "path": "dossiers",
                        "data_selector": "data",
                        "incremental": {
                            "cursor_path": "cap_nhat_luc",
                            "start_param": "updated_since",
                            "lookback_window": "PT1H",
                        },
                    },
                },
                {
                    "name": "monthly",
                    "endpoint": {
                        "path": "statistics/monthly",
                        "data_selector": "items",
                        "paginator": {"type": "single_page"},
                    },
                },
            ],
            "mapping": {
                "dossiers": {
                    "to": "dataset",
                    "dataset": "igate_dossiers",
                    "unit_field": "don_vi.ma",
                },
                "monthly": {
                    "to": "values",
                    "element": "DOSSIERS_RECEIVED",
                    "unit_field": "ma_don_vi",
                    "period_field": "thang",
                    "option_field": "kenh",
                    "value_field": "so_ho_so_tiep_nhan",
                },
            },
        },
    }


def nq57_source(base_url: str, *, schedule: str | None = "*/10 * * * *") -> dict[str, Any]:
    """The ready-made source that reads the Resolution 57 stand-in page."""
    return {
        "code": "nq57_progress",
        "name": "Tiến độ Nghị quyết 57 (trang theo dõi)",
        "kind": "web_page",
        "schedule": schedule,
        "freshness": {"daily_by": "17:00"},
        "config": {
            "url": base_url + "tien-do",
            "tables": [
                {"name": "progress", "selector": "table#tien-do", "primary_key": "ma_don_vi"}
            ],
            "figures": [
                {
                    "name": "summary",
                    "fields": {
                        "ky_bao_cao": "#ky .so",
                        "tong_nhiem_vu": "#tong .so",
                        "da_hoan_thanh": "#xong .so",
                    },
                }
            ],
            "mapping": {
                "progress": {
                    "to": "dataset",
                    "dataset": "nq57_progress",
                    "unit_field": "ma_don_vi",
                },
                "summary": {
                    "to": "dataset",
                    "dataset": "nq57_summary",
                    "primary_key": "ky_bao_cao",
                },
            },
        },
    }


def documents_upload_source() -> dict[str, Any]:
    """A ready-made upload source: each unit's monthly count of incoming documents, sent as an
    Excel or CSV file (what units mail today), landing as DOCS_INCOMING values."""
    return {
        "code": "docs_incoming_upload",
        "name": "Văn bản đến hằng tháng (tệp Excel của đơn vị)",
        "kind": "upload",
        "freshness": {"max_age_minutes": 60 * 24 * 35},
        "config": {
            "columns": [
                {"key": "ma_don_vi", "header": "Mã đơn vị", "required": True},
                {"key": "thang", "header": "Tháng", "required": True, "aliases": ["Kỳ báo cáo"]},
                {"key": "so_van_ban_den", "header": "Số văn bản đến", "required": True},
                {"key": "ghi_chu", "header": "Ghi chú"},
            ],
            "mapping": {
                "rows": {
                    "to": "values",
                    "element": "DOCS_INCOMING",
                    "unit_field": "ma_don_vi",
                    "period_field": "thang",
                    "value_field": "so_van_ban_den",
                    "value_format": "vi",
                    "comment_field": "ghi_chu",
                }
            },
        },
    }


def hotline_source(base_url: str, *, schedule: str | None = "*/5 * * * *") -> dict[str, Any]:
    """The ready-made source that reads the 1022 hotline stand-in's cases."""
    return {
        "code": "hotline_1022",
        "name": "Phản ánh, kiến nghị qua Tổng đài 1022",
        "kind": "rest_api",
        "schedule": schedule,
        "freshness": {"max_age_minutes": 60},
        "config": {
            "client": {
                "base_url": base_url,
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "total_pages",
                },
            },
            "resources": [
                {
                    "name": "cases",
                    "primary_key": "ma_phan_anh",
                    "endpoint": {
                        "path": "api/cases",
                        "params": {"page_size": 50},
                        "data_selector": "items",
                    },
                }
            ],
            "mapping": {
                "cases": {"to": "dataset", "dataset": "hotline_1022", "unit_field": "ma_xa"}
            },
        },
    }
