"""The ``dieuhanh`` command. Thin: each subcommand calls the capability's service code."""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from dieuhanh import __version__
from dieuhanh.audit.recorder import Actor, set_actor
from dieuhanh.config import ConfigError, Settings, load_settings
from dieuhanh.errors import DieuhanhError
from dieuhanh.runtime import Runtime, build_runtime
from dieuhanh.stopping import STOP_SIGNALS, stop_on_signals

log = logging.getLogger("dieuhanh")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def _settings(**overrides: Any) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    _configure_logging(settings.log_level)
    return settings


@contextmanager
def _cli_session(runtime: Runtime) -> Iterator[Session]:
    """A session whose changes are audited as made by this command's operating-system user."""
    with runtime.sessions() as session:
        set_actor(session, Actor(name=f"cli:{getpass.getuser()}", via="cli"))
        yield session


def _guard(action: Callable[[], None]) -> None:
    try:
        action()
    except DieuhanhError as exc:
        details = "".join(f"\n  {_detail_line(d)}" for d in (exc.details or [])[:50])
        _fail(exc.message + details)
    except ConfigError as exc:
        _fail(str(exc))


def _detail_line(detail: dict[str, Any]) -> str:
    where = (
        f"line {detail['line']}" if "line" in detail else f"feature {detail.get('feature', '?')}"
    )
    field = f" {detail['field']}:" if detail.get("field") else ""
    return f"{where}:{field} {detail.get('message') or detail.get('reason')}"


@click.group()
@click.version_option(__version__, prog_name="dieuhanh")
def main() -> None:
    """DieuHanh: the platform of a provincial Intelligent Operations Center."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the demo's SQLite database (default: $DIEUHANH_DATA_DIR or ./dieuhanh-data).",
)
def demo(host: str, port: int, data_dir: Path | None) -> None:
    """Set up (or reuse) an embedded database with the province and serve the web UI and API."""
    with stop_on_signals():  # also while setting up: the demo's cameras are stopped on the way out
        _demo(host, port, data_dir)


def _demo(host: str, port: int, data_dir: Path | None) -> None:
    from dieuhanh import demo as demo_setup

    started = time.monotonic()
    if os.environ.get("DIEUHANH_DATABASE_URL"):
        click.echo("note: the demo ignores DIEUHANH_DATABASE_URL and uses its own SQLite file")
    settings = _settings(data_dir=data_dir, database_url="")
    runtime = build_runtime(settings)
    result: list[Any] = []
    _guard(lambda: result.append(demo_setup.prepare(runtime)))
    _print_banner(settings, result[0], host, port, time.monotonic() - started)
    from dieuhanh.app import background_jobs
    from dieuhanh.scheduler import Scheduler

    try:
        _serve(runtime, host, port, scheduler=Scheduler(background_jobs(runtime)))
    finally:
        if result[0].cameras is not None:
            result[0].cameras.stop()


def _print_banner(settings: Settings, result: Any, host: str, port: int, elapsed: float) -> None:
    click.secho(f"DieuHanh {__version__} demo — ready in {elapsed:.1f} s", bold=True)
    click.echo(
        f"  web UI and API: http://{host}:{port}/   (API: /api/v1/, OpenAPI: /api/v1/openapi.json)"
    )
    click.echo(f"  database:       {settings.effective_database_url}")
    if result.setup.admin_password:
        click.secho(
            f"  admin password: {result.setup.admin_password}   (user: admin; shown once — "
            "store it, or set DIEUHANH_ADMIN_PASSWORD)",
            fg="yellow",
        )
    elif settings.admin_password:
        click.echo("  admin password: from DIEUHANH_ADMIN_PASSWORD (user: admin)")
    else:
        click.echo(
            "  admin password: as printed on the first run (user: admin); reset it with "
            "'dieuhanh users set-password admin'"
        )
    if result.cameras is not None:
        click.echo(
            f"  cameras:        simulated on rtsp://127.0.0.1:{result.cameras.simulator.port}/ "
            "(live and dead in every way the monitor tells apart)"
        )
    if result.accounts_password:
        names = ", ".join(f"{a.username} ({a.role.value})" for a in result.accounts)
        click.secho(
            f"  demo accounts:  {names} — password {result.accounts_password} (shown once)",
            fg="yellow",
        )


def _serve(
    runtime: Runtime, host: str, port: int, scheduler: Any = None, **uvicorn_options: Any
) -> None:
    import uvicorn

    from dieuhanh.app import create_app
    from dieuhanh.gateway.app import UVICORN_OPTIONS

    uvicorn.run(
        create_app(runtime=runtime, scheduler=scheduler),
        host=host,
        port=port,
        log_level=runtime.settings.log_level.lower(),
        **(UVICORN_OPTIONS | uvicorn_options),
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    help="Trust X-Forwarded-For from the proxies in FORWARDED_ALLOW_IPS.",
)
def serve(host: str, port: int, proxy_headers: bool) -> None:
    """Serve the web UI and API on PostgreSQL (DIEUHANH_DATABASE_URL is required)."""
    settings = _settings()
    if not settings.database_url:
        _fail(
            "DIEUHANH_DATABASE_URL is required for 'serve', e.g. "
            "postgresql+psycopg://dieuhanh@127.0.0.1/dieuhanh ('dieuhanh demo' uses SQLite)."
        )
    runtime = build_runtime(settings)
    from dieuhanh.db import migrate

    if not migrate.is_current(runtime.engine):
        _fail("the database schema is not current: run 'dieuhanh migrate' first.")
    with stop_on_signals():
        _serve(runtime, host, port, proxy_headers=proxy_headers)


@main.command()
def worker() -> None:
    """Run the background jobs (camera health monitor, …) without the web server."""
    import asyncio

    from dieuhanh.app import background_jobs
    from dieuhanh.db import migrate
    from dieuhanh.scheduler import Scheduler

    runtime = build_runtime(_settings())
    if not migrate.is_current(runtime.engine):
        _fail("the database schema is not current: run 'dieuhanh migrate' first.")
    scheduler = Scheduler(background_jobs(runtime))
    if not scheduler.jobs:
        _fail("no background job is enabled in the configuration.")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:  # replaces stop_on_signals' handlers while the loop runs
            loop.add_signal_handler(signum, stop.set)
        log.info("worker running: %s", ", ".join(job.name for job in scheduler.jobs))
        await scheduler.run(stop)
        log.info("worker stopped")

    with stop_on_signals():  # a signal before the loop runs (or after) also stops the worker
        asyncio.run(run())


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8100, show_default=True, type=int)
@click.option("--node-id", help="A name unique among the nodes (default: host:port).")
@click.option(
    "--public-url",
    help="This node's address as browsers reach it "
    "(default: gateway.public_url, else http://<host name>:<port>).",
)
def gateway(host: str, port: int, node_id: str | None, public_url: str | None) -> None:
    """Serve camera video as a gateway node (scale-out; see docs/cameras-live.md)."""
    import socket

    import uvicorn

    from dieuhanh.db import migrate
    from dieuhanh.gateway.app import UVICORN_OPTIONS, create_gateway_app, default_node_id

    runtime = build_runtime(_settings())
    if not migrate.is_current(runtime.engine):
        _fail("the database schema is not current: run 'dieuhanh migrate' first.")
    if runtime.stream_secret is None:
        _fail("gateway.secret is required (DIEUHANH_GATEWAY__SECRET), the same as the API's.")
    url = (
        public_url or runtime.settings.gateway.public_url or f"http://{socket.gethostname()}:{port}"
    )
    app = create_gateway_app(runtime, node_id or default_node_id(port), url)
    with stop_on_signals():
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=runtime.settings.log_level.lower(),
            **UVICORN_OPTIONS,
        )


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date, load the official units and create the admin."""
    from dieuhanh.bootstrap import setup

    runtime = build_runtime(_settings())
    outcome: list[Any] = []
    _guard(lambda: outcome.append(setup(runtime)))
    click.echo(
        "schema up to date; units loaded" if outcome[0].reference_loaded else "schema up to date"
    )
    if outcome[0].admin_password:
        click.secho(f"admin password: {outcome[0].admin_password} (shown once)", fg="yellow")


@main.group()
def units() -> None:
    """Units: import, search, rename."""


@units.group("import")
def units_import() -> None:
    """Import units or their boundaries."""


@units_import.command("reference")
def import_reference() -> None:
    """(Re)load the 34 provinces and 3,321 communes/wards from vietnam-provinces."""
    from dieuhanh.units.catalog import load_reference

    runtime = build_runtime(_settings())

    def run() -> None:
        with _cli_session(runtime) as session:
            report = load_reference(session)
            session.commit()
        click.echo(
            f"{report.provinces} provinces, {report.communes} communes/wards; "
            f"{report.created} created, {report.unchanged} already present"
        )
        for line in report.differing[:50]:
            click.echo(f"  differs: {line}")

    _guard(run)


@units_import.command("list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file without writing.")
def import_list(file: Path, dry_run: bool) -> None:
    """Import a CSV/JSON list of units (code,name,type,parent_code,...), e.g. departments."""
    from dieuhanh.units.listfile import import_unit_list

    runtime = build_runtime(_settings())

    def run() -> None:
        with _cli_session(runtime) as session:
            report = import_unit_list(
                session,
                file.read_bytes(),
                file.name,
                today=runtime.today(),
                default_parent=runtime.settings.province_code,
            )
            session.rollback() if dry_run else session.commit()
        click.echo(
            json.dumps({**report.as_dict(), "dry_run": dry_run}, ensure_ascii=False, indent=1)
        )

    _guard(run)


@units_import.command("boundaries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report the joins without writing.")
@click.option("--apply-names", is_flag=True, help="Record the file's differing names as renames.")
@click.option(
    "--effective-date",
    type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]),
    help="When the file's names took effect (needed with --apply-names).",
)
@click.option("--attribution", help="Credit shown on the map.")
def import_boundaries_command(
    file: Path, dry_run: bool, apply_names: bool, effective_date: Any, attribution: str | None
) -> None:
    """Import commune/ward polygons from a GeoJSON FeatureCollection (WGS84, .gz accepted)."""
    from dieuhanh.gis.importer import ImportOptions, import_boundaries

    runtime = build_runtime(_settings())
    options = ImportOptions(
        province_code=runtime.settings.province_code,
        today=runtime.today(),
        dry_run=dry_run,
        apply_names=apply_names,
        effective=effective_date.date() if effective_date else None,
        attribution=attribution,
        imported_by=f"cli:{getpass.getuser()}",
    )

    def run() -> None:
        with _cli_session(runtime) as session:
            report = import_boundaries(session, file.read_bytes(), file.name, options)
            session.commit()
        _print_boundary_report(report)

    _guard(run)


def _print_boundary_report(report: Any) -> None:
    by_name = [m for m in report.matched if m["by"] == "name"]
    click.echo(
        f"{len(report.matched)} of {report.features} features joined "
        f"({len(by_name)} by name); {report.replaced} boundaries stored, "
        f"{report.unchanged} unchanged{' (dry run)' if report.dry_run else ''}"
    )
    for match in by_name:
        click.echo(
            f"  by name: feature {match['feature']} code {match['code_in_file']} → "
            f"{match['unit_name']} ({match['unit_code']})"
        )
    for miss in report.unmatched:
        click.echo(
            f"  not joined: feature {miss['feature']} ({miss['name_in_file']}): {miss['reason']}"
        )
    for unit in report.units_without_boundary:
        click.echo(f"  no boundary: {unit['name']} ({unit['code']})")
    for diff in report.name_differences:
        state = "recorded as rename" if diff["applied"] else "not applied (use --apply-names)"
        click.echo(f"  name differs: {diff['unit_name']} → {diff['name_in_file']}: {state}")


@units.command("search")
@click.argument("text")
def search_command(text: str) -> None:
    """Find units by name (diacritics and prefix optional)."""
    from dieuhanh.units.search import search_units
    from dieuhanh.units.service import find_unit

    runtime = build_runtime(_settings())
    with _cli_session(runtime) as session:
        province = find_unit(session, runtime.settings.province_code)
        for match in search_units(
            session, text, prefer_province_id=province.id if province else None, limit=20
        ):
            unit = match.unit
            parent = unit.parent.name if unit.parent else ""
            click.echo(f"{unit.code:>8}  {unit.name}  [{unit.type}] {parent}")


@units.command("rename")
@click.argument("code")
@click.argument("name")
@click.option("--effective-date", required=True, type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]))
@click.option("--type", "unit_type", help="New type, e.g. ward when a xã becomes a phường.")
@click.option("--note", help="The decision or resolution behind the change.")
def rename_command(
    code: str, name: str, effective_date: Any, unit_type: str | None, note: str | None
) -> None:
    """Record a new name for a unit from a date; its former name is kept."""
    from dieuhanh.units.service import get_unit_detail, rename_unit
    from dieuhanh.units.types import UnitType

    runtime = build_runtime(_settings())

    def run() -> None:
        with _cli_session(runtime) as session:
            unit = get_unit_detail(session, code)
            rename_unit(
                session,
                unit,
                name,
                effective_date.date(),
                new_type=UnitType(unit_type) if unit_type else None,
                note=note,
            )
            session.commit()
            click.echo(f"{unit.code} is now {unit.name} from {effective_date.date():%d/%m/%Y}")

    _guard(run)


@main.group()
def indicators() -> None:
    """Indicator set and report forms: load configuration."""


@indicators.command("load")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Overwrite records whose code exists already.")
def indicators_load(files: tuple[Path, ...], update: bool) -> None:
    """Load data elements, forms, indicators and rules from YAML FILES (none: the shipped
    national-8 and provincial sets). Existing codes are kept unless --update."""
    from dieuhanh.indicators import loader
    from dieuhanh.indicators.dvsformat import decode

    runtime = build_runtime(_settings())

    def run() -> None:
        texts = (
            [(file.name, decode(file.read_bytes(), file.name)) for file in files]
            if files
            else loader.shipped_files()
        )
        with _cli_session(runtime) as session:
            report = loader.load(
                session, texts, province_code=runtime.settings.province_code, update=update
            )
            session.commit()
        click.echo(report.summary())

    _guard(run)


@main.group()
def users() -> None:
    """Accounts."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["province_admin", "province_operator", "department_officer", "commune_officer", "viewer"]
    ),
)
@click.option("--unit", "unit_code", required=True, help="Code of the unit the account belongs to.")
@click.option("--full-name", default="")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    username: str,
    role: str,
    unit_code: str,
    full_name: str,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create an account bound to a unit."""
    from dieuhanh.auth.service import UserFields, create_user

    runtime = build_runtime(_settings())
    password = _read_password(password_stdin)

    def run() -> None:
        with _cli_session(runtime) as session:
            user = create_user(
                session,
                runtime.passwords,
                username,
                password,
                role,
                unit_code,
                UserFields(full_name=full_name, email=email),
            )
            session.commit()
            click.echo(f"created {user.username} ({user.role}, {user.unit.name})")

    _guard(run)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set an account's password (and re-enable it)."""
    from dieuhanh.auth.service import get_user, set_password

    runtime = build_runtime(_settings())
    password = _read_password(password_stdin)

    def run() -> None:
        with _cli_session(runtime) as session:
            user = get_user(session, username)
            set_password(runtime.passwords, user, password)
            user.is_active = True
            session.commit()
            click.echo(f"password of {user.username} changed")

    _guard(run)


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
def config_show() -> None:
    """Print the effective configuration (secrets masked)."""
    settings = _settings()
    click.echo(json.dumps(json.loads(settings.model_dump_json()), indent=2, ensure_ascii=False))


@config.command("docs")
def config_docs() -> None:
    """Print the configuration reference in Markdown (docs/configuration.md)."""
    from dieuhanh.configdocs import render_reference

    click.echo(render_reference(), nl=False)
