"""Running a source: fetch its pages, keep each raw, store what its records map to, count.

Each page is stored in its own transaction with its raw payload, so a run that fails half way
keeps what it stored (and a rerun finds it unchanged: records are compared by fingerprint,
values by the one write path). The incremental cursor moves only when the whole run succeeded,
so a failed run is fetched again from the same place, which is harmless because storing is
idempotent. A source is leased while it runs: a second run (another process, a click during a
scheduled run) is refused, and a crashed run's lease expires.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from queue import Full, Queue
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, String, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, DieuhanhError, InvalidInput, NotFound
from dieuhanh.core.events import publish
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.connectors import (
    Connector,
    FetchContext,
    Page,
    SourceFailure,
    Upload,
    connector_for,
    highest,
)
from dieuhanh.datahub.freshness import refresh_state
from dieuhanh.datahub.mapping import (
    DatasetMapping,
    Mapping,
    RecordProblem,
    SeriesMapping,
    UnitMatcher,
    ValuesMapping,
    fingerprint,
    optional_text,
    parse_mappings,
    period_code,
    record_key,
    search_text,
    text_of,
    value_text,
)
from dieuhanh.datahub.models import (
    DatasetRecord,
    DataSource,
    RunPayload,
    RunStatus,
    SensorReading,
    SourceRun,
    Trigger,
)
from dieuhanh.datahub.spec import SourceSpec
from dieuhanh.datahub.topics import RECORDS_CHANGED, SENSOR_READING
from dieuhanh.gis.service import locate
from dieuhanh.indicators.catalog.catalog import Catalog
from dieuhanh.indicators.catalog.models import Source
from dieuhanh.indicators.values.save import ValueRow, save_values
from dieuhanh.units.models import Unit

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # renewed at every page
PROGRESS = ("fetched", "new", "updated", "unchanged", "rejected")
KEYS_PER_QUERY = 1000  # stored records looked up per query (well under any parameter limit)
MAX_PROBLEMS = 100  # rejections kept per run, each naming its payload, record and field
RETRY_BACKOFF = (60, 300, 900, 3600)  # seconds after 1, 2, 3, 4+ failed runs in a row
POLICY_SETTING = "datahub.allowed_networks"


@dataclass
class RunOutcome:
    run_id: int
    status: str = RunStatus.RUNNING
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, payload_id: int, record: int, problem_field: str, message: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(
                {
                    "payload": payload_id,
                    "record": record,
                    "field": problem_field,
                    "message": message,
                }
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "error": self.error,
        }


def source_detail(code: str, run_id: int, payload_id: int) -> str:
    """What a connector value carries in ``source_detail``: the way back to its payload."""
    return f"datahub:{code} run {run_id} payload {payload_id}"


def get_source(session: Session, code: str) -> DataSource:
    source = session.scalar(select(DataSource).where(DataSource.code == code))
    if source is None:
        raise NotFound(f"No data source with code '{code}'.", code="source_not_found")
    return source


def spec_of(source: DataSource) -> SourceSpec:
    return SourceSpec.model_validate(
        {
            "code": source.code,
            "name": source.name,
            "kind": source.kind,
            "config": source.config,
            "schedule": source.schedule,
            "freshness": source.freshness,
            "enabled": source.enabled,
        }
    )


def run_source(
    runtime: Runtime,
    code: str,
    *,
    trigger: str = Trigger.MANUAL,
    started_by: str | None = None,
    environ: dict[str, str] | None = None,
    upload: Upload | None = None,
    principal: Principal | None = None,
) -> RunOutcome:
    """One run, recorded whatever happens; Conflict when the source is running already.
    ``upload``: the file an upload source reads; ``principal``: whose write scope applies."""
    outcome, source_id = _start(runtime, code, trigger, started_by)
    cursors: dict[str, str] = {}
    try:
        plan = _plan(runtime, source_id, dict(os.environ) if environ is None else environ, upload)
        store = plan.store(runtime, outcome, principal)
        cursors = plan.run(store)
        outcome.status = RunStatus.SUCCEEDED
    except (SourceFailure, DieuhanhError) as exc:
        outcome.status, outcome.error = RunStatus.FAILED, str(exc)
    except Exception as exc:  # a bug must not leave the run "running" for ever
        log.exception("data source %s: run %s failed", code, outcome.run_id)
        outcome.status = RunStatus.FAILED
        outcome.error = f"internal error ({type(exc).__name__}); see the server log"
    outcome.problems.sort(key=_in_file_order)
    _finish(runtime, source_id, outcome, cursors)
    return outcome


def _in_file_order(problem: dict[str, Any]) -> tuple[int, int]:
    return problem["payload"], problem["record"]


@dataclass
class Preview:
    outcome: RunOutcome
    rows: list[dict[str, Any]]  # the first rows as read: {row, values}


PREVIEW_ROWS = 50


def preview_upload(
    runtime: Runtime, code: str, upload: Upload, principal: Principal | None
) -> Preview:
    """What an upload would do, row by row, with nothing written and no run recorded."""
    with runtime.sessions() as session:
        source_id = get_source(session, code).id
    plan = _plan(runtime, source_id, {}, upload)
    outcome = RunOutcome(run_id=0)
    store = plan.store(runtime, outcome, principal, dry_run=True)
    rows: list[dict[str, Any]] = []
    try:
        pages = list(plan.pages())
    except SourceFailure as exc:
        raise InvalidInput(str(exc), code="invalid_file") from None
    for sequence, page in enumerate(pages, start=1):
        store.page(sequence, page, plan.mappings[page.resource])
        numbers = page.row_numbers or list(range(1, len(page.records) + 1))
        for number, record in zip(numbers, page.records, strict=False):
            if len(rows) < PREVIEW_ROWS:
                rows.append({"row": number, "values": record})
    outcome.status = RunStatus.SUCCEEDED
    outcome.problems.sort(key=_in_file_order)
    return Preview(outcome, rows)


@dataclass
class _Plan:
    """A source ready to run: its connector, config, mappings and what the store needs."""

    code: str
    source_id: int
    connector: Connector
    config: dict[str, Any]
    mappings: dict[str, Mapping]
    matcher: UnitMatcher
    catalog: Catalog | None
    context: FetchContext

    def pages(self) -> Iterator[Page]:
        return self.connector.fetch(self.config, self.context)

    def store(
        self,
        runtime: Runtime,
        outcome: RunOutcome,
        principal: Principal | None,
        dry_run: bool = False,
    ) -> _Store:
        return _Store(
            runtime, self.code, self.source_id, outcome, self.matcher, self.catalog,
            principal=principal, dry_run=dry_run,
        )  # fmt: skip

    def run(self, store: _Store) -> dict[str, str]:
        """Store every page; the highest cursor of each resource."""
        cursors: dict[str, str] = {}
        depth = self.context.settings.prefetch_pages
        for sequence, page in enumerate(prefetched(self.pages(), depth), start=1):
            try:
                store.page(sequence, page, self.mappings[page.resource])
            except BaseException:
                if page.abandoned is not None:
                    page.abandoned()
                raise
            if page.stored is not None and not store.dry_run:
                page.stored()
            if page.cursor is not None:
                values = [value for value in (cursors.get(page.resource), page.cursor) if value]
                best = highest(values)
                if best is not None:
                    cursors[page.resource] = best
        return cursors


def _start(
    runtime: Runtime, code: str, trigger: str, started_by: str | None
) -> tuple[RunOutcome, int]:
    now = utcnow()
    with runtime.sessions() as session:
        source = get_source(session, code)
        claimed = cast(
            CursorResult[Any],
            session.execute(
                update(DataSource)
                .where(
                    DataSource.id == source.id,
                    or_(DataSource.running_until.is_(None), DataSource.running_until < now),
                )
                .values(running_until=now + LEASE)
            ),
        ).rowcount
        if not claimed:
            raise Conflict(
                f"Data source '{code}' is running already; wait for its run to finish.",
                code="source_running",
            )
        run = SourceRun(source_id=source.id, trigger=trigger, started_by=started_by, started_at=now)
        session.add(run)
        session.commit()
        return RunOutcome(run_id=run.id), source.id


def _plan(
    runtime: Runtime, source_id: int, environ: dict[str, str], upload: Upload | None
) -> _Plan:
    settings = runtime.settings
    with runtime.sessions() as session:
        source = session.get_one(DataSource, source_id)
        code, kind, config = source.code, source.kind, dict(source.config)
        stored_cursor = dict(source.cursor or {})
        connector = connector_for(kind)
        connector.check(config, "config")
        mappings = parse_mappings(
            config.get("mapping"), connector.resources(config), "config.mapping"
        )
        matcher = UnitMatcher.load(session, settings.province_code)
        catalog = Catalog.load(session) if _maps_values(mappings) else None
    context = FetchContext(
        settings=settings.datahub,
        policy=NetworkPolicy.of(settings.datahub.allowed_networks, setting=POLICY_SETTING),
        cursor=stored_cursor,
        environ=environ,
        upload=upload,
        source_code=code,
    )
    return _Plan(code, source_id, connector, config, mappings, matcher, catalog, context)


def prefetched(pages: Iterator[Page], depth: int) -> Iterator[Page]:
    """The pages, fetched by a thread up to ``depth`` ahead of the one being stored: a run then
    takes about the longer of fetching and storing, not their sum, and holds at most ``depth``
    pages besides the current one. An error of the fetch is raised where the page would be."""
    if depth <= 0:
        yield from pages
        return
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.2)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put(("error", exc))

    thread = threading.Thread(target=produce, name="datahub-fetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()  # the fetch stops at its next page (its request is bounded by timeouts)


def _maps_values(mappings: dict[str, Mapping]) -> bool:
    return any(isinstance(mapping, ValuesMapping) for mapping in mappings.values())


@dataclass
class _Store:
    """Stores pages for one run. ``dry_run``: counts and rejections exactly as a real run would
    find them, nothing written (an upload's preview). ``principal``: a person's upload, held to
    their write scope; None is the hub itself (a source configured by an administrator)."""

    runtime: Runtime
    code: str
    source_id: int
    outcome: RunOutcome
    matcher: UnitMatcher
    catalog: Catalog | None
    principal: Principal | None = None
    dry_run: bool = False
    payload_id: int | None = None  # the last page's; a page without a body shares it
    page_now: Page | None = None

    @property
    def run_id(self) -> int | None:
        return None if self.dry_run else self.outcome.run_id

    def page(self, sequence: int, page: Page, mapping: Mapping) -> None:
        self.page_now = page
        with self.runtime.sessions() as session:
            set_actor(session, self._actor())
            if not self.dry_run and page.body is not None:
                self.payload_id = _keep_payload(session, self.outcome.run_id, sequence, page).id
            self.outcome.fetched += len(page.records)
            for index, (field, message) in sorted(page.rejected.items()):
                self.reject(index, field, message)
            if isinstance(mapping, DatasetMapping):
                self._records(session, page, mapping)
            elif isinstance(mapping, SeriesMapping):
                self._series(session, page, mapping)
            else:
                self._values(session, page, mapping)
            if self.dry_run:
                session.rollback()
                return
            session.execute(
                update(DataSource)
                .where(DataSource.id == self.source_id)
                .values(running_until=utcnow() + LEASE)
            )
            # The counts so far, for whoever watches a long run (an upload's progress).
            counts = self.outcome.to_json()
            session.execute(
                update(SourceRun)
                .where(SourceRun.id == self.outcome.run_id)
                .values({name: counts[name] for name in PROGRESS})
            )
            session.commit()

    def _actor(self) -> Actor:
        if self.principal is None:
            return Actor(name=f"datahub:{self.code}", via="system")
        return Actor(name=self.principal.username, via="api", user_id=self.principal.user_id)

    def reject(self, index: int, field: str, message: str) -> None:
        """A record left out: named by its row in the file, or its place in the page."""
        page = self.page_now
        number = page.row_numbers[index - 1] if page and page.row_numbers else index
        label = page.labels.get(field, field) if page else field
        if label != field:
            message = message.replace(repr(field), repr(label))
        self.outcome.reject(self.payload_id or 0, number, label, message)

    def _records(self, session: Session, page: Page, mapping: DatasetMapping) -> None:
        rows: dict[str, tuple[dict[str, Any], int | None, str]] = {}
        primary_key = mapping.primary_key or page.primary_key
        scope = self.principal.write_scope if self.principal else None
        for index, record in enumerate(page.records, start=1):
            if index in page.rejected:
                continue
            try:
                if not isinstance(record, dict):
                    raise RecordProblem("", "the record is not an object")
                if primary_key is None:
                    raise RecordProblem("primary_key", "the mapping names no primary_key")
                key = record_key(record, primary_key)
                unit_id = self.matcher.match(mapping, record)[0] if mapping.unit_field else None
                if scope is not None and not scope.allows(unit_id):
                    raise RecordProblem(
                        mapping.unit_field or "",
                        "outside your unit: you may add records of your own unit only",
                    )
            except RecordProblem as problem:
                self.reject(index, problem.field, problem.message)
                continue
            rows[key] = (record, unit_id, fingerprint(record))
        stored = _stored_records(session, mapping.dataset, list(rows))
        now, run_id, payload_id = utcnow(), self.run_id, self.payload_id
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        for key, (data, unit_id, print_) in rows.items():
            existing = stored.get(key)
            if existing is None:
                new_rows.append(
                    {
                        "dataset": mapping.dataset, "record_key": key,
                        "source_id": self.source_id, "unit_id": unit_id, "data": data,
                        "fingerprint": print_, "first_run_id": run_id, "run_id": run_id,
                        "payload_id": payload_id, "created_at": now, "updated_at": now,
                        "search_text": search_text(data),
                    }
                )  # fmt: skip
            elif existing[1:] != (print_, unit_id):
                changed_rows.append(
                    {
                        "id": existing[0], "unit_id": unit_id, "data": data,
                        "fingerprint": print_, "run_id": run_id, "payload_id": payload_id,
                        "updated_at": now, "search_text": search_text(data),
                    }
                )  # fmt: skip
        if new_rows and not self.dry_run:
            _insert_records(session, new_rows)
        if changed_rows and not self.dry_run:
            session.execute(update(DatasetRecord), changed_rows)
        if (new_rows or changed_rows) and not self.dry_run:
            self._announce(session, mapping.dataset, rows, new_rows, changed_rows)
        self.outcome.new += len(new_rows)
        self.outcome.updated += len(changed_rows)
        self.outcome.unchanged += len(rows) - len(new_rows) - len(changed_rows)

    def _announce(
        self,
        session: Session,
        dataset: str,
        rows: dict[str, tuple[dict[str, Any], int | None, str]],
        new_rows: list[dict[str, Any]],
        changed_rows: list[dict[str, Any]],
    ) -> None:
        """Publish the page's new and changed records (``dataset.records_changed``)."""
        changed = [(row["record_key"], "new") for row in new_rows]
        by_id = {row["id"]: row for row in changed_rows}
        keys = {stored_id: key for key, stored_id in _ids_of(session, dataset, rows, by_id)}
        changed += [(keys[stored_id], "updated") for stored_id in by_id if stored_id in keys]
        records = [
            {
                "key": key,
                "unit": self.matcher.code_of.get(rows[key][1] or 0),
                "change": change,
                "data": rows[key][0],
            }
            for key, change in changed
        ]
        publish(session, RECORDS_CHANGED,
                {"dataset": dataset, "source": self.code, "run_id": self.run_id or 0,
                 "records": records})  # fmt: skip

    def _series(self, session: Session, page: Page, mapping: SeriesMapping) -> None:
        """Readings, once each: a reading already stored (same device, metric and time, e.g.
        a message the broker delivered twice) is counted unchanged."""
        readings: dict[tuple[str, str, datetime], dict[str, Any]] = {}
        valid = 0
        for index, record in enumerate(page.records, start=1):
            try:
                device, metric = mapping.device(record), mapping.metric_of(record)
                at = mapping.moment(record)
                value = _number(text_of(record, mapping.value_field), mapping.value_field)
                unit_id = self._unit_of_device(session, mapping, device, record)
            except RecordProblem as problem:
                self.reject(index, problem.field, problem.message)
                continue
            valid += 1
            readings[(device, metric, at)] = {
                "source_id": self.source_id, "device": device[:100], "metric": metric[:60],
                "unit_id": unit_id, "at": at, "value": value, "run_id": self.run_id,
                "payload_id": self.payload_id,
            }  # fmt: skip
        if not readings:
            return
        moments = [key[2] for key in readings]
        stored = {
            (device, metric, _utc(at))
            for device, metric, at in session.execute(
                select(SensorReading.device, SensorReading.metric, SensorReading.at).where(
                    SensorReading.source_id == self.source_id,
                    SensorReading.at.between(min(moments), max(moments)),
                )
            )
        }
        fresh = [
            row for key, row in readings.items() if (key[0], key[1], _utc(key[2])) not in stored
        ]
        if fresh and not self.dry_run:
            session.execute(insert(SensorReading), fresh)
            self._announce_readings(session, fresh)
        self.outcome.new += len(fresh)
        self.outcome.unchanged += valid - len(fresh)  # stored before, or twice in this batch

    def _announce_readings(self, session: Session, fresh: list[dict[str, Any]]) -> None:
        """``sensor.reading``: the newest fresh reading of each device × metric."""
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for row in fresh:
            key = (row["device"], row["metric"])
            if key not in newest or row["at"] > newest[key]["at"]:
                newest[key] = row
        for row in newest.values():
            publish(session, SENSOR_READING,
                    {"source": self.code, "device": row["device"], "metric": row["metric"],
                     "unit_code": self.matcher.code_of.get(row["unit_id"] or 0),
                     "value": row["value"],
                     "at": _utc(row["at"]).isoformat()}, unit_id=row["unit_id"])  # fmt: skip

    def _unit_of_device(
        self, session: Session, mapping: SeriesMapping, device: str, record: Any
    ) -> int | None:
        if device in mapping.devices:
            found = self.matcher.by_code.get(mapping.devices[device])
            if found is None:
                raise RecordProblem(
                    "devices", f"device {device!r}: no unit {mapping.devices[device]!r}"
                )
            return found[0]
        if mapping.unit_field:
            return self.matcher.match(mapping, record)[0]
        if mapping.lat_field and mapping.lon_field:
            lat = _number(text_of(record, mapping.lat_field), mapping.lat_field)
            lon = _number(text_of(record, mapping.lon_field), mapping.lon_field)
            province = session.scalar(
                select(Unit).where(Unit.code == self.runtime.settings.province_code.zfill(2))
            )
            unit = locate(session, lon, lat, province) if province is not None else None
            if unit is None:
                raise RecordProblem(mapping.lat_field, f"({lat}, {lon}) is in no commune")
            return unit.id
        return None

    def _values(self, session: Session, page: Page, mapping: ValuesMapping) -> None:
        rows: list[ValueRow] = []
        for index, record in enumerate(page.records, start=1):
            if index in page.rejected:
                continue
            try:
                element = mapping.element or text_of(record, mapping.element_field or "")
                unit_code = self.matcher.match(mapping, record)[1]
                value = value_text(mapping, record)
                option = mapping.option or (
                    text_of(record, mapping.option_field) if mapping.option_field else None
                )
                comment = optional_text(record, mapping.comment_field)
                rows.append(
                    ValueRow(
                        element=element, unit=unit_code, period=period_code(mapping, record),
                        value=value, option=option, comment=comment, row=index,
                    )
                )  # fmt: skip
            except RecordProblem as problem:
                self.reject(index, problem.field, problem.message)
        summary = save_values(
            session,
            self.principal,
            rows,
            source=Source.CONNECTOR,
            source_detail=source_detail(self.code, self.outcome.run_id, self.payload_id or 0),
            catalog=self.catalog,
            dry_run=self.dry_run,
        )
        self.outcome.new += summary.imported
        self.outcome.updated += summary.updated + summary.deleted
        self.outcome.unchanged += summary.ignored
        for conflict in summary.conflicts:
            self.reject(conflict.row, conflict.property, conflict.message)


RECORD_COLUMNS = (
    "dataset", "record_key", "source_id", "unit_id", "data", "fingerprint", "first_run_id",
    "run_id", "payload_id", "created_at", "updated_at", "search_text",
)  # fmt: skip


def _ids_of(
    session: Session,
    dataset: str,
    rows: dict[str, tuple[dict[str, Any], int | None, str]],
    by_id: dict[int, dict[str, Any]],
) -> list[tuple[str, int]]:
    if not by_id:
        return []
    return [
        (key, stored_id)
        for key, stored_id in session.execute(
            select(DatasetRecord.record_key, DatasetRecord.id).where(
                DatasetRecord.id.in_(list(by_id))
            )
        )
        if key in rows
    ]


def _insert_records(session: Session, rows: list[dict[str, Any]]) -> None:
    """New records, in the page's transaction. PostgreSQL: COPY (a page of 500 dossiers went in
    8 ms instead of 60 ms by executemany); elsewhere Core executemany (ORM objects cost more
    than the database)."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(DatasetRecord), rows)
        return
    connection = session.connection().connection.driver_connection
    assert connection is not None
    statement = f"COPY dataset_records ({', '.join(RECORD_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[c], ensure_ascii=False) if c == "data" else row[c]
                    for c in RECORD_COLUMNS
                ]
            )


def _stored_records(
    session: Session, dataset: str, keys: list[str]
) -> dict[str, tuple[int, str, int | None]]:
    """(id, fingerprint, unit) of the stored records among ``keys``.

    On PostgreSQL the keys go as one array joined to the table: ``IN`` with hundreds of
    parameters becomes, once the statement is prepared, a generic plan that compares every row
    of the dataset with every key (200 ms a page at 15,000 records, growing with the table);
    the join probes the unique index once per key whatever the table's size."""
    columns = (
        DatasetRecord.id,
        DatasetRecord.record_key,
        DatasetRecord.fingerprint,
        DatasetRecord.unit_id,
    )
    if session.get_bind().dialect.name == "postgresql":
        wanted = (
            func.unnest(bindparam("keys", keys, ARRAY(String))).table_valued("key").render_derived()
        )
        queries = [
            select(*columns)
            .join(wanted, DatasetRecord.record_key == wanted.c.key)
            .where(DatasetRecord.dataset == dataset)
        ]
    else:
        queries = [
            select(*columns).where(
                DatasetRecord.dataset == dataset,
                DatasetRecord.record_key.in_(keys[start : start + KEYS_PER_QUERY]),
            )
            for start in range(0, len(keys), KEYS_PER_QUERY)
        ]
    return {
        key: (row_id, print_, unit_id)
        for query in queries
        for row_id, key, print_, unit_id in session.execute(query)
    }


def _number(text: str, field: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise RecordProblem(field, f"{text!r} is not a number") from None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _keep_payload(session: Session, run_id: int, sequence: int, page: Page) -> RunPayload:
    body = page.body or b""
    payload = RunPayload(
        run_id=run_id,
        sequence=sequence,
        resource=page.resource,
        reference=page.reference[:2000],
        content_type=(page.content_type or "")[:100] or None,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        body=zlib.compress(body, 6),
        records=len(page.records),
        received_at=utcnow(),
    )
    session.add(payload)
    session.flush()
    return payload


def payload_body(payload: RunPayload) -> bytes:
    return zlib.decompress(payload.body)


def _finish(runtime: Runtime, source_id: int, outcome: RunOutcome, cursors: dict[str, str]) -> None:
    now = utcnow()
    with runtime.sessions() as session:
        run = session.get_one(SourceRun, outcome.run_id)
        for name in ("status", "fetched", "new", "updated", "unchanged", "rejected", "error"):
            setattr(run, name, getattr(outcome, name))
        run.problems = outcome.problems
        run.finished_at = now
        source = session.get_one(DataSource, source_id)
        source.last_run_at, source.running_until = now, None
        local_now = now.astimezone(ZoneInfo(runtime.settings.timezone))
        following = _next_scheduled(source, local_now)
        if outcome.status == RunStatus.SUCCEEDED:
            source.last_success_at, source.last_error, source.failures = now, None, 0
            source.cursor = (source.cursor or {}) | cursors
            source.next_run_at = following
        else:
            source.failures += 1
            source.last_error = outcome.error
            delay = RETRY_BACKOFF[min(source.failures, len(RETRY_BACKOFF)) - 1]
            retry = now + timedelta(seconds=delay)
            source.next_run_at = min(retry, following) if following else None
        refresh_state(session, source, now, runtime.settings.timezone)
        session.commit()


def _next_scheduled(source: DataSource, local_now: datetime) -> datetime | None:
    following = spec_of(source).next_run_after(local_now)
    return following.astimezone(ZoneInfo("UTC")) if following else None
