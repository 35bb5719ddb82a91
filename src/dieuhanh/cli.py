"""The ``dieuhanh`` command. Thin: each subcommand calls the capability's service code."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from dieuhanh import __version__
from dieuhanh.capabilities import CAPABILITIES, build_runtime, enabled_capabilities
from dieuhanh.core.capability import Capability
from dieuhanh.core.cli import CliContext, cli_runtime, cli_settings, fail, guard
from dieuhanh.core.config import ConfigError, Settings, load_settings
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.stopping import STOP_SIGNALS, stop_on_signals

log = logging.getLogger("dieuhanh")


class ProductCli(click.Group):
    """The `dieuhanh` command: its own commands, then each capability's, added when first
    listed or looked up (so that the configured plugins are known by then)."""

    def __init__(self, *args: Any, capabilities: Sequence[Capability] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self._capabilities = capabilities
        self._assembled = False

    def _assemble(self) -> None:
        if not self._assembled:
            self._assembled = True
            _add_capability_commands(self, self._capabilities or _configured_capabilities())

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._assemble()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._assemble()
        return super().get_command(ctx, cmd_name)


def _configured_capabilities() -> Sequence[Capability]:
    try:
        return enabled_capabilities(load_settings())
    except (ConfigError, ImportError, ValueError):
        return CAPABILITIES  # the command itself reports the configuration error


@click.group(cls=ProductCli)
@click.version_option(__version__, prog_name="dieuhanh")
@click.pass_context
def main(context: click.Context) -> None:
    """DieuHanh: the platform of a provincial Intelligent Operations Center."""
    context.obj = CliContext(make_runtime=build_runtime)


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
    settings = cli_settings(data_dir=data_dir, database_url="")
    runtime = build_runtime(settings)
    result: list[Any] = []
    guard(lambda: result.append(demo_setup.prepare(runtime)))
    _print_banner(settings, result[0], host, port, time.monotonic() - started)
    from dieuhanh.app import Background

    try:
        _serve(runtime, host, port, background=Background.of(runtime))
    finally:
        result[0].stop()


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
    for part in result.parts:
        for line in part.banner:
            click.echo(f"  {line}")
    if result.accounts_password:
        names = ", ".join(f"{a.username} ({a.role.value})" for a in result.accounts)
        click.secho(
            f"  demo accounts:  {names} — password {result.accounts_password} (shown once)",
            fg="yellow",
        )


def _serve(
    runtime: Runtime, host: str, port: int, background: Any = None, **uvicorn_options: Any
) -> None:
    import uvicorn

    from dieuhanh.app import create_app
    from dieuhanh.gateway.app import UVICORN_OPTIONS

    uvicorn.run(
        create_app(runtime=runtime, background=background),
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
    settings = cli_settings()
    if not settings.database_url:
        fail(
            "DIEUHANH_DATABASE_URL is required for 'serve', e.g. "
            "postgresql+psycopg://dieuhanh@127.0.0.1/dieuhanh ('dieuhanh demo' uses SQLite)."
        )
    runtime = build_runtime(settings)
    from dieuhanh.core.db import migrate

    if not migrate.is_current(runtime.engine):
        fail("the database schema is not current: run 'dieuhanh migrate' first.")
    with stop_on_signals():
        _serve(runtime, host, port, proxy_headers=proxy_headers)


@main.command()
def worker() -> None:
    """Run the background jobs (camera health monitor, …) and the event subscribers, without
    the web server. Several workers share the jobs (each runs once per interval across them)."""
    import asyncio

    from dieuhanh.app import Background
    from dieuhanh.core.db import migrate

    runtime = cli_runtime()
    if not migrate.is_current(runtime.engine):
        fail("the database schema is not current: run 'dieuhanh migrate' first.")
    background = Background.of(runtime)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:  # replaces stop_on_signals' handlers while the loop runs
            loop.add_signal_handler(signum, stop.set)
        log.info("worker running: %s", ", ".join(background.names()))
        await background.run(stop)
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

    from dieuhanh.cameras.streams import camera_gateway_node
    from dieuhanh.core.db import migrate
    from dieuhanh.gateway.app import UVICORN_OPTIONS, create_gateway_app, default_node_id

    runtime = cli_runtime()
    if not migrate.is_current(runtime.engine):
        fail("the database schema is not current: run 'dieuhanh migrate' first.")
    if runtime.stream_secret is None:
        fail("gateway.secret is required (DIEUHANH_GATEWAY__SECRET), the same as the API's.")
    url = (
        public_url or runtime.settings.gateway.public_url or f"http://{socket.gethostname()}:{port}"
    )
    node = camera_gateway_node(runtime, node_id or default_node_id(port))
    app = create_gateway_app(runtime, node, url)
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

    runtime = cli_runtime()
    outcome: list[Any] = []
    guard(lambda: outcome.append(setup(runtime)))
    click.echo(
        "schema up to date; units loaded" if outcome[0].reference_loaded else "schema up to date"
    )
    if outcome[0].admin_password:
        click.secho(f"admin password: {outcome[0].admin_password} (shown once)", fg="yellow")


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
def config_show() -> None:
    """Print the effective configuration (secrets masked)."""
    settings = cli_settings()
    click.echo(json.dumps(json.loads(settings.model_dump_json()), indent=2, ensure_ascii=False))


@config.command("docs")
def config_docs() -> None:
    """Print the configuration reference in Markdown (docs/configuration.md)."""
    from dieuhanh.core.configdocs import render_reference

    click.echo(render_reference(), nl=False)


def build_cli(capabilities: Sequence[Capability]) -> click.Group:
    """A `dieuhanh` command over these capabilities (tests add a toy one this way)."""
    group = ProductCli(
        name="dieuhanh", callback=main.callback, params=main.params, capabilities=capabilities
    )
    for command in main.commands.values():
        group.add_command(command)
    return group


def _add_capability_commands(group: click.Group, capabilities: Sequence[Capability]) -> None:
    """Each capability's command group, then commands it adds to another's group (``cli:units
    import`` puts a command under ``dieuhanh units import``)."""
    for capability in capabilities:
        if capability.cli is not None:
            group.add_command(capability.cli)
    for capability in capabilities:
        for point, commands in capability.contributes.items():
            if not point.startswith("cli:"):
                continue
            parent: click.Command = group
            for name in point.removeprefix("cli:").split():
                assert isinstance(parent, click.Group), point
                parent = parent.commands[name]
            assert isinstance(parent, click.Group), point
            for command in commands:
                assert isinstance(command, click.Command), point
                parent.add_command(command)
