"""Speed of the indicator set (issue 5, "Speed"): import throughput, indicator query time against a
hand-written SQL aggregate, and memory peak, over 20 million data values.

The values (10 years × 113 units × ~1,500 element/option pairs, monthly) are generated inside the
database with one ``INSERT … SELECT`` over a cross join per month (no Python row loop, no client
round trips), in the order a real province's data arrives: month after month, unit after unit.
PostgreSQL loads with the table's constraints and indexes dropped (and JIT off) and rebuilds
them afterwards, then VACUUM ANALYZE; SQLite drops its indexes too and builds them after the
load, in a child process so that its 2 GB page cache does not count in the memory peak below.
The load time is printed apart from the figures measured on it: 20 M values load in about 2
minutes on either database (2 CPUs).

Then, on each database:

(a) dataValueSets import throughput: 200,000 values as DHIS2 JSON through the real import path
    (``indicators.datavaluesets.import_data_value_set`` → ``values.save_values``), as new values,
    as the same file again (every value unchanged), and with every value changed;
(b) an indicator ``overdue ÷ processed × 100`` (both elements disaggregated by 3 options) for the
    95 communes × 60 months through ``indicators.analytics.query``, against a hand-written SQL
    aggregate of the same numbers, timed alternately, median of ``--repeat`` runs; the two must
    give the same numbers. Goal: within 1.5× of the SQL, and under 200 ms on PostgreSQL;
(c) the process's memory peak (ru_maxrss), after setup and after each import.

    .venv/bin/python bench/indicators.py [--values 20000000] [--backends sqlite,postgresql]
        [--repeat 7] [--import-values 200000] [--keep] [--skip-import] [--covering]

PostgreSQL: a database ``dieuhanh_bench`` is created on 127.0.0.1:5432 (trust auth, user
postgres; ``DIEUHANH_BENCH_POSTGRES_URL`` to change) and dropped at the end unless ``--keep``.

Before and after issue #11, ``--values 2000000 --backends postgresql`` on a 2-core machine (the
steps between, each measured against the one before in the same session: docs/indicators.md,
"Import speed"):

    as issue #11 found it:  10,700 new, 13,800 unchanged, 7,200 changed values/s; 318 MB peak
                            for a 21 MB file; bare insert 252,000/s; one option 1.53× the SQL
    05/12/2026 (aedde6b):   73,700-74,800 new, 108,200-109,300 unchanged, 65,300-66,200
                            changed values/s (3.2× / 3.6× a bare COPY of 236,900-238,800/s);
                            peak 218 MB resident for 22 MB (+21 MB over the process
                            before the import; +19 MB for 5 MB); one option
                            1.31-1.36× the SQL, all options 1.19-1.20×
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, create_engine, select, text
from sqlalchemy.orm import Session

from dieuhanh.auth.service import find_user, principal_for
from dieuhanh.bootstrap import setup
from dieuhanh.capabilities import build_runtime
from dieuhanh.core.config import load_settings
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.base import UTCDateTime
from dieuhanh.core.db.engine import make_engine
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics import analytics
from dieuhanh.indicators.catalog.form_models import ReportForm, ReportFormElement, ReportFormUnit
from dieuhanh.indicators.catalog.models import (
    DataElement,
    Disaggregation,
    DisaggregationOption,
    Indicator,
)
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.values.datavaluesets import import_data_value_set
from dieuhanh.units.models import Unit

PROVINCE = "75"
MONTHS = 120  # ten years
QUERY_MONTHS = 60
OPTIONS = ("O1", "O2", "O3")
IMPORT_ELEMENTS = 10  # 10 × 3 options × 113 units × 60 months = 203,400 ≥ 200,000 values
PG_ADMIN_URL = os.environ.get(
    "DIEUHANH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "dieuhanh_bench"
ACTOR = Actor(name="system:bench", via="system")
# Processed (E0000) and overdue (E0001) dossiers: the indicator the query computes.
PROCESSED, OVERDUE = "E0000", "E0001"
INDICATOR, INDICATOR_BY_OPTION = "BENCH_OVERDUE_RATE", "BENCH_OVERDUE_RATE_O1"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Grid:
    """What the generated values cover."""

    elements: list[int]  # element ids, in code order
    units: list[int]  # the province's 113 communes and departments
    communes: list[int]
    months: list[Period]
    import_elements: list[str] = field(default_factory=list)

    @property
    def values(self) -> int:
        return len(self.elements) * len(OPTIONS) * len(self.units) * len(self.months)


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def sqlite_database(keep: bool) -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="dieuhanh-bench-")
    path = Path(folder) / "bench.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        if keep:
            say(f"  kept: {path}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            Path(folder).rmdir()


@contextmanager
def postgres_database(keep: bool) -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    finally:
        if keep:
            say(f"  kept: database {PG_DATABASE}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def make_runtime(url: str, data_dir: Path) -> Runtime:
    settings = load_settings(
        database_url=url,
        data_dir=data_dir,
        admin_password="bench-admin-password",
        cameras={"credential_keys": ["dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="]},
        gateway={"secret": "bench-gateway-secret"},
    )
    return build_runtime(settings)


# --- metadata ----------------------------------------------------------------------------------


def element_count(values: int) -> int:
    return max(2, round(values / (MONTHS * 113 * len(OPTIONS))))


def create_metadata(runtime: Runtime, elements: int) -> Grid:
    """Elements E0000… (3 options each), the import elements, one monthly form holding them all
    assigned to the province's units, and the two indicators."""
    with runtime.sessions() as session:
        set_actor(session, ACTOR)
        disaggregation = Disaggregation(
            code="BENCH_OPTIONS",
            name="Phân tổ",
            options=[
                DisaggregationOption(code=code, name=code, sort_order=n)
                for n, code in enumerate(OPTIONS)
            ],
        )
        codes = [f"E{n:04d}" for n in range(elements)]
        imports = [f"IMP{n:03d}" for n in range(IMPORT_ELEMENTS)]
        rows = [
            DataElement(
                code=code,
                name=f"Chỉ tiêu {code}",
                value_type="integer",
                aggregation_type="sum",
                domain="public_services",
                disaggregation=disaggregation,
            )
            for code in codes + imports
        ]
        session.add_all(rows)
        province = session.scalars(select(Unit).where(Unit.code == PROVINCE)).one()
        units = session.scalars(
            select(Unit)
            .where(
                Unit.parent_id == province.id,
                Unit.type.in_(["commune", "ward", "special_zone", "department"]),
            )
            .order_by(Unit.code)
        ).all()
        session.flush()
        session.add(
            ReportForm(
                code="BENCH_FORM",
                name="Biểu đo tốc độ",
                period_type="monthly",
                elements=[
                    ReportFormElement(element_id=r.id, sort_order=n) for n, r in enumerate(rows)
                ],
                units=[ReportFormUnit(unit_id=u.id) for u in units],
            )
        )
        session.add_all(
            [
                Indicator(
                    code=INDICATOR,
                    name="Tỷ lệ hồ sơ trễ hạn",
                    numerator=f"#{{{OVERDUE}}}",
                    denominator=f"#{{{PROCESSED}}}",
                    factor=100.0,
                    decimals=2,
                ),
                Indicator(
                    code=INDICATOR_BY_OPTION,
                    name="Tỷ lệ hồ sơ trễ hạn (O1)",
                    numerator=f"#{{{OVERDUE}.O1}}",
                    denominator=f"#{{{PROCESSED}.O1}}",
                    factor=100.0,
                    decimals=2,
                ),
            ]
        )
        session.commit()
        last = period_of(PeriodType.MONTHLY, runtime.today()).previous()
        months = [last.offset(-n) for n in range(MONTHS - 1, -1, -1)]
        return Grid(
            elements=[r.id for r in rows[:elements]],
            units=[u.id for u in units],
            communes=[u.id for u in units if u.type != "department"],
            months=months,
            import_elements=imports,
        )


# --- loading -----------------------------------------------------------------------------------

# Even elements count dossiers (300–3,000 a month per unit and option), odd ones overdue dossiers
# (0–119): the indicator E0001 ÷ E0000 is a plausible 2–10 %. Integer arithmetic gives the same
# numbers on both databases.
GENERATED = """
INSERT INTO data_values (element_id, unit_id, period_code, period_type, period_start, period_end,
    option, value, numeric, source, source_detail, stored_by, created_at, updated_at)
SELECT element_id, unit_id, :code, 'monthly', :start, :end, option,
       CAST(amount AS TEXT), CAST(amount AS FLOAT), 'import', 'bench', 'bench', :now, :now
FROM (
    SELECT e.id AS element_id, u.id AS unit_id, o.code AS option, u.k AS uk, e.k AS ek, o.k AS ok,
           CASE WHEN e.k % 2 = 0
                THEN 300 + (e.k * 7919 + u.k * 104729 + :m * 613 + o.k * 31) % 2701
                ELSE (e.k * 31 + u.k * 7 + :m * 13 + o.k * 5) % 120 END AS amount
    FROM bench_units u CROSS JOIN bench_elements e CROSS JOIN bench_options o
) AS grid
ORDER BY uk, ek, ok
"""


def fill_helpers(connection: Connection, grid: Grid) -> None:
    for table in ("bench_units", "bench_elements"):
        connection.execute(text(f"CREATE TABLE {table} (id INTEGER, k INTEGER)"))
    connection.execute(text("CREATE TABLE bench_options (code VARCHAR(10), k INTEGER)"))
    connection.execute(
        text("INSERT INTO bench_units VALUES (:id, :k)"),
        [{"id": i, "k": k} for k, i in enumerate(grid.units)],
    )
    connection.execute(
        text("INSERT INTO bench_elements VALUES (:id, :k)"),
        [{"id": i, "k": k} for k, i in enumerate(grid.elements)],
    )
    connection.execute(
        text("INSERT INTO bench_options VALUES (:code, :k)"),
        [{"code": c, "k": k} for k, c in enumerate(OPTIONS)],
    )


def drop_helpers(connection: Connection) -> None:
    for table in ("bench_units", "bench_elements", "bench_options"):
        connection.execute(text(f"DROP TABLE {table}"))


def insert_months(connection: Connection, grid: Grid, progress: bool) -> None:
    statement = text(GENERATED).bindparams(
        bindparam("start", type_=Date),
        bindparam("end", type_=Date),
        bindparam("now", type_=UTCDateTime),
    )
    now = datetime.now(UTC)
    started = time.perf_counter()
    for m, month in enumerate(grid.months):
        connection.execute(
            statement,
            {"code": month.code, "start": month.start, "end": month.end, "m": m, "now": now},
        )
        if progress and (m + 1) % 12 == 0:
            done = (m + 1) * len(grid.elements) * len(OPTIONS) * len(grid.units)
            rate = done / (time.perf_counter() - started)
            say(f"    … {m + 1} months, {done:,} values ({rate:,.0f}/s)")


@dataclass
class LoadTimes:
    insert: float = 0.0
    indexes: float = 0.0
    analyze: float = 0.0
    size_mb: float = 0.0

    @property
    def total(self) -> float:
        return self.insert + self.indexes + self.analyze


def load_postgres(url: str, grid: Grid) -> LoadTimes:
    engine = make_engine(url)
    try:
        return _load_postgres_with(engine, grid)
    finally:
        engine.dispose()


def _load_postgres_with(engine: Engine, grid: Grid) -> LoadTimes:
    times = LoadTimes()
    with engine.begin() as connection:
        constraints = connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = 'data_values'::regclass ORDER BY contype = 'f', conname"
            )
        ).all()
        indexes = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'data_values' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = 'data_values'::regclass)"
            )
        ).all()
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
        for name, _, _ in reversed(constraints):
            connection.execute(text(f'ALTER TABLE data_values DROP CONSTRAINT "{name}"'))
        fill_helpers(connection, grid)
    started = time.perf_counter()
    with engine.begin() as connection:
        # The helper tables have no statistics yet: the planner would expect billions of rows
        # and JIT-compile every month's statement (0.4 s each, most of the load).
        connection.execute(text("SET LOCAL jit = off"))
        insert_months(connection, grid, progress=grid.values >= 5_000_000)
        drop_helpers(connection)
    times.insert = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        for name, definition, _ in constraints:
            connection.execute(
                text(f'ALTER TABLE data_values ADD CONSTRAINT "{name}" {definition}')
            )
        for _, definition in indexes:
            connection.execute(text(definition))
    times.indexes = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) data_values"))
        times.size_mb = (
            connection.execute(text("SELECT pg_total_relation_size('data_values')")).scalar_one()
            / 2**20
        )
    times.analyze = time.perf_counter() - started
    return times


def load_sqlite(url: str, grid: Grid) -> LoadTimes:
    """Run in a child process: SQLite's page cache of the load would otherwise count in this
    process's memory peak, which is meant to show the application's own work."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_load_sqlite, url, grid).result()


def _load_sqlite(url: str, grid: Grid) -> LoadTimes:
    engine = make_engine(url)
    try:
        return _load_sqlite_with(engine, grid, Path(url.removeprefix("sqlite:///")))
    finally:
        engine.dispose()


def _load_sqlite_with(engine: Engine, grid: Grid, path: Path) -> LoadTimes:
    times = LoadTimes()
    with engine.begin() as connection:
        indexes = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'data_values' AND sql IS NOT NULL"
            )
        ).all()
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
        fill_helpers(connection, grid)
    started = time.perf_counter()
    with engine.begin() as connection:
        # A bulk load: a large cache, no fsync until the end.
        connection.exec_driver_sql("PRAGMA cache_size = -2000000")
        connection.exec_driver_sql("PRAGMA synchronous = OFF")
        insert_months(connection, grid, progress=grid.values >= 5_000_000)
        drop_helpers(connection)
    times.insert = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA cache_size = -2000000")
        for _, definition in indexes:
            connection.execute(text(definition))
    times.indexes = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("PRAGMA cache_size = -2000")
        connection.exec_driver_sql("PRAGMA synchronous = NORMAL")
    times.analyze = time.perf_counter() - started
    times.size_mb = path.stat().st_size / 2**20
    return times


def build_covering(url: str) -> float:
    """--covering (SQLite only): a what-if index holding every column the analytics query reads.
    PostgreSQL's key index already carries them (INCLUDE); SQLite has no INCLUDE, and widening
    its unique key would change what the key means, so this adds a second index."""
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        if engine.dialect.name != "postgresql":
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "CREATE INDEX ix_data_values_covering ON data_values (element_id, "
                        "period_start, unit_id, option, period_end, numeric)"
                    )
                )
    finally:
        engine.dispose()
    return time.perf_counter() - started


# --- (a) import throughput ---------------------------------------------------------------------


def import_rows(
    grid: Grid, units: dict[int, str], count: int, bump: int
) -> Iterator[dict[str, str]]:
    """``count`` values of the import elements, in the order a province's files arrive."""
    made = 0
    for m, month in enumerate(grid.months[-QUERY_MONTHS:]):
        for k, unit_id in enumerate(grid.units):
            for e, element in enumerate(grid.import_elements):
                for o, option in enumerate(OPTIONS):
                    amount = 300 + (e * 7919 + k * 104729 + m * 613 + o * 31) % 2701 + bump
                    yield {
                        "dataElement": element,
                        "period": month.code,
                        "orgUnit": units[unit_id],
                        "categoryOptionCombo": option,
                        "value": str(amount),
                    }
                    made += 1
                    if made == count:
                        return


def write_document(path: Path, rows: Iterator[dict[str, str]]) -> int:
    """The rows as a DHIS2 dataValueSet file, written as generated (never whole in memory)."""
    with path.open("w") as file:
        file.write('{"dataValues": [')
        for n, row in enumerate(rows):
            file.write(("," if n else "") + json.dumps(row))
        file.write("]}")
    return path.stat().st_size


def run_import(runtime: Runtime, path: Path, label: str) -> tuple[int, float]:
    """The route's path: the body as a file, read as a stream, through import_data_value_set."""
    started = time.perf_counter()
    with runtime.sessions() as session, path.open("rb") as body:
        set_actor(session, ACTOR)
        user = find_user(session, "admin")
        assert user is not None
        principal = principal_for(session, user, via="api")
        summary = import_data_value_set(
            session, principal, body, fmt="json", filename=f"bench-{label}.json"
        )
        session.commit()
    elapsed = time.perf_counter() - started
    if summary.conflicts:
        raise SystemExit(f"import {label}: {len(summary.conflicts)} conflicts, first: "
                         f"{summary.conflicts[0].to_json()}")  # fmt: skip
    counts = summary.to_json()["importCount"]
    return max(counts.values()), elapsed


def bare_insert(runtime: Runtime, grid: Grid, units: dict[int, str], count: int) -> float:
    """The floor: the same rows as data_values rows, written by the database's fastest path
    with no checks (PostgreSQL: COPY from psycopg's ``write_row``; SQLite: the driver's
    executemany), into the same table with its indexes (and, before migration 0023, its two
    foreign keys), then rolled back."""
    codes = {code: unit_id for unit_id, code in units.items()}
    with runtime.sessions() as session:
        elements = dict(
            session.execute(
                select(DataElement.code, DataElement.id).where(
                    DataElement.code.in_(grid.import_elements)
                )
            ).all()
        )
        months = {month.code: month for month in grid.months}
        now = datetime.now(UTC)
        rows = [
            (elements[row["dataElement"]], codes[row["orgUnit"]], row["period"], "monthly",
             months[row["period"]].start, months[row["period"]].end, row["categoryOptionCombo"],
             row["value"], float(row["value"]), None, "import", "bench", "admin", now, now)
            for row in import_rows(grid, units, count, bump=7)
        ]  # fmt: skip
        columns = (
            "element_id, unit_id, period_code, period_type, period_start, period_end, option, "
            "value, numeric, comment, source, source_detail, stored_by, created_at, updated_at"
        )
        connection = session.connection()
        started = time.perf_counter()
        if connection.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            statement = f"COPY data_values ({columns}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        else:
            markers = ", ".join("?" for _ in range(15))
            stamp, day = now.isoformat(" "), lambda d: d.isoformat()
            connection.exec_driver_sql(
                f"INSERT INTO data_values ({columns}) VALUES ({markers})",
                [(*r[:4], day(r[4]), day(r[5]), *r[6:13], stamp, stamp) for r in rows],
            )
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed


def bare_update(runtime: Runtime, count: int) -> float:
    """The floor of changing values: ``count`` stored values given a new value, numeric and
    stamp by one UPDATE joining a table of (id, value, numeric) — no checks, no history — then
    rolled back. Run after the imports, on the rows they stored (PostgreSQL only)."""
    with runtime.sessions() as session:
        connection = session.connection()
        connection.execute(text(
            "CREATE TEMPORARY TABLE bench_updates ON COMMIT DROP AS SELECT id, "
            "CAST(CAST(value AS integer) + 1 AS text) AS value, numeric + 1 AS numeric "
            "FROM data_values WHERE source_detail LIKE 'bench-%' ORDER BY id LIMIT :count"
        ), {"count": count})  # fmt: skip
        started = time.perf_counter()
        connection.execute(text(
            "UPDATE data_values AS d SET value = u.value, numeric = u.numeric, "
            "source = 'import', stored_by = 'admin', updated_at = now() "
            "FROM bench_updates AS u WHERE d.id = u.id"
        ))  # fmt: skip
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed


def bench_import(runtime: Runtime, grid: Grid, count: int, url: str) -> None:
    with runtime.sessions() as session:
        found = session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(grid.units)))
        units = {unit_id: code for unit_id, code in found}
    bare = bare_insert(runtime, grid, units, count)
    say(f"  (a) bare {'COPY' if 'postgresql' in url else 'executemany'} of the same {count:,} "
        f"rows (no checks, no history): {bare:6.2f} s {count / bare:9,.0f} values/s")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for label, bump in (("new values", 0), ("same file again", 0), ("every value changed", 1)):
            path = Path(folder) / f"{label.replace(' ', '-')}.json"
            size = write_document(path, import_rows(grid, units, count, bump))
            changed, elapsed = run_import(runtime, path, label.replace(" ", "-"))
            say(
                f"  (a) import {count:,} values, {label:<20} {elapsed:6.2f} s   "
                f"{count / elapsed:9,.0f} values/s   {elapsed / bare:4.1f}× the bare insert   "
                f"({changed:,} {_verb(label)}; {size / 2**20:.0f} MB JSON)"
            )
        if "postgresql" in url:
            floor = bare_update(runtime, count)
            say(f"  (a) bare UPDATE of {count:,} of those values (one statement joining the new "
                f"values by id; no checks, no history): {floor:6.2f} s "
                f"{count / floor:9,.0f} values/s")  # fmt: skip
        bench_import_memory(url, grid, units, count, Path(folder))


def bench_import_memory(
    url: str, grid: Grid, units: dict[int, str], count: int, folder: Path
) -> None:
    """The memory an import costs, in a fresh process each (nothing else in it), for a file of
    ``count`` values and one four times smaller: streaming keeps the two equal."""
    spawn = multiprocessing.get_context("spawn")
    for size in (count // 4, count):
        path = folder / f"memory-{size}.json"
        megabytes = write_document(path, import_rows(grid, units, size, bump=size)) / 2**20
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            start, peak, elapsed = pool.submit(_import_in_child, url, str(path)).result()
        say(
            f"  (c) import of {size:,} values ({megabytes:.0f} MB JSON) in a fresh process: "
            f"peak {peak:,.0f} MB resident, {peak - start:+,.0f} MB over the process before "
            f"the import ({size / elapsed:,.0f} values/s)"
        )


def _import_in_child(url: str, path: str) -> tuple[float, float, float]:
    """(resident MB before the import, peak resident MB during it, seconds)."""
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = make_runtime(url, Path(data_dir))
        try:
            with runtime.sessions() as session:  # the app imported and connected first
                session.execute(select(Unit.id).limit(1))
            # Linux: "5" resets the process's peak resident size (VmHWM) to the current one,
            # so the peak below is the import's, not start-up's.
            Path("/proc/self/clear_refs").write_text("5")
            start = status_mb("VmRSS")
            _, elapsed = run_import(runtime, Path(path), "memory")
            return start, status_mb("VmHWM"), elapsed
        finally:
            runtime.close()


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def settle(url: str) -> None:
    """After the imports, vacuum as autovacuum soon would: otherwise it runs during (b) on one of
    the two CPUs, and whichever query it overlaps looks slower (the per-option ratio measured
    1.06× on a settled table and 1.45-1.67× right after the imports)."""
    if "postgresql" not in url:
        return
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) data_values, data_value_changes"))
    finally:
        engine.dispose()


def _verb(label: str) -> str:
    return {"new values": "imported", "same file again": "ignored"}.get(label, "updated")


# --- (b) indicator query -----------------------------------------------------------------------

HAND_SQL = """
SELECT u.code, v.period_code,
       SUM(CASE WHEN v.element_id = :numerator THEN v.numeric END) AS numerator,
       SUM(CASE WHEN v.element_id = :denominator THEN v.numeric END) AS denominator
FROM data_values v JOIN units u ON u.id = v.unit_id
WHERE v.element_id IN (:numerator, :denominator)
  AND v.period_start >= :first AND v.period_start <= :last AND v.period_end <= :last
  AND v.unit_id IN :communes AND v.numeric IS NOT NULL {option}
GROUP BY u.code, v.period_code
"""

Figures = dict[tuple[str, str], tuple[float | None, float | None, float | None]]


def hand_written(
    session: Session, ids: dict[str, int], communes: list[int], months: list[Period], option: str
) -> Figures:
    statement = text(HAND_SQL.format(option="AND v.option = :option" if option else "")).bindparams(
        bindparam("first", type_=Date),
        bindparam("last", type_=Date),
        bindparam("communes", expanding=True),
    )
    params: dict[str, Any] = {
        "numerator": ids[OVERDUE],
        "denominator": ids[PROCESSED],
        "first": months[0].start,
        "last": months[-1].end,
        "communes": communes,
    }
    if option:
        params["option"] = option
    figures: Figures = {}
    for unit, period, numerator, denominator in session.execute(statement, params):
        value = (
            round(numerator / denominator * 100, 2)
            if numerator is not None and denominator
            else None
        )
        figures[(unit, period)] = (value, numerator, denominator)
    return figures


def through_analytics(session: Session, code: str, months: list[Period]) -> list[Any]:
    return analytics.query(
        session, indicators=[code], level="commune", parent=PROVINCE, periods=months
    )


def figures_of(rows: list[Any]) -> Figures:
    return {(r.unit, r.period): (r.value, r.numerator, r.denominator) for r in rows}


def timed(runtime: Runtime, work: Callable[[Session], Any]) -> tuple[float, Any]:
    """The time of ``work`` alone, in a new session as a request would have."""
    with runtime.sessions() as session:
        started = time.perf_counter()
        result = work(session)
        return time.perf_counter() - started, result


def bench_query(runtime: Runtime, grid: Grid, repeat: int, backend: str) -> None:
    months = grid.months[-QUERY_MONTHS:]
    with runtime.sessions() as session:
        found = session.execute(
            select(DataElement.code, DataElement.id).where(
                DataElement.code.in_([PROCESSED, OVERDUE])
            )
        )
        ids = {code: element_id for code, element_id in found}
    for code, option in ((INDICATOR, ""), (INDICATOR_BY_OPTION, "O1")):
        ours, hand = [], []
        for _ in range(repeat + 1):  # the first round warms caches and is not counted
            elapsed, rows = timed(runtime, lambda s, c=code: through_analytics(s, c, months))
            ours.append(elapsed)
            elapsed, expected = timed(
                runtime, lambda s, o=option: hand_written(s, ids, grid.communes, months, o)
            )
            hand.append(elapsed)
        found = figures_of(rows)
        same = found == expected
        cells = len(expected)
        a, h = statistics.median(ours[1:]), statistics.median(hand[1:])
        goal = (
            "goal met" if a <= 1.5 * h and (backend != "postgresql" or a < 0.2) else "GOAL MISSED"
        )
        say(
            f"  (b) {code} ({'option O1' if option else 'all options'}), 95 communes × "
            f"{len(months)} months = {cells:,} cells: analytics.query {a * 1000:7.1f} ms, "
            f"hand-written SQL {h * 1000:7.1f} ms, ratio {a / h:4.2f}×, "
            f"same numbers: {'yes' if same else 'NO'}; {goal}"
        )
        if not same:
            _show_difference(found, expected)


def _show_difference(found: Figures, expected: Figures) -> None:
    keys = sorted(set(found) | set(expected))
    wrong = [k for k in keys if found.get(k) != expected.get(k)]
    say(f"      {len(wrong)} cells differ, e.g.:")
    for key in wrong[:5]:
        say(f"      {key}: analytics {found.get(key)}, SQL {expected.get(key)}")


# --- main --------------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> None:
    say(f"\n== {backend} ==")
    opener = sqlite_database if backend == "sqlite" else postgres_database
    with opener(args.keep) as url, tempfile.TemporaryDirectory() as data_dir:
        runtime = make_runtime(url, Path(data_dir))
        try:
            started = time.perf_counter()
            setup(runtime)
            grid = create_metadata(runtime, element_count(args.values))
            say(f"  (c) memory peak after setup: {peak_mb():,.0f} MB")
            say(
                f"  setup (migrations, units, metadata): {time.perf_counter() - started:.1f} s; "
                f"{len(grid.elements)} elements × {len(OPTIONS)} options × {len(grid.units)} "
                f"units × {len(grid.months)} months = {grid.values:,} values"
            )
            loader = load_postgres if backend == "postgresql" else load_sqlite
            times = loader(url, grid)
            say(
                f"  load: {times.total:.1f} s = insert {times.insert:.1f} s "
                f"({grid.values / times.insert:,.0f} values/s) + constraints and indexes "
                f"{times.indexes:.1f} s + vacuum/analyze {times.analyze:.1f} s; "
                f"data_values {times.size_mb:,.0f} MB"
            )
            if args.covering:
                say(f"  --covering: covering analytics index built in {build_covering(url):.1f} s")
            if not args.skip_import:
                bench_import(runtime, grid, args.import_values, url)
                settle(url)
            bench_query(runtime, grid, args.repeat, backend)
            say(f"  (c) memory peak after the queries: {peak_mb():,.0f} MB")
        finally:
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--values", type=int, default=20_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--import-values", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases for a look")
    parser.add_argument("--skip-import", action="store_true", help="only load and query")
    parser.add_argument(
        "--covering",
        action="store_true",
        help="what-if (SQLite): add an index covering the analytics query before measuring",
    )
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        sys.exit(f"unknown backend(s) {', '.join(sorted(unknown))}: use sqlite, postgresql")
    say(f"DieuHanh indicator benchmark: {args.values:,} values asked, {os.cpu_count()} CPUs")
    for backend in backends:
        run_backend(backend, args)
    say(f"\n(c) memory peak of the process (ru_maxrss): {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
