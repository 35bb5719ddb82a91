"""`dieuhanh datahub …`: declare sources from a YAML file, list them, run one."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from dieuhanh.core.cli import cli_runtime, cli_session, fail, guard
from dieuhanh.datahub.models import DataSource
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import load_file


@click.group("datahub")
def datahub() -> None:
    """Data sources: declare, list, run."""


@datahub.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def load(path: Path | None) -> None:
    """Declare (or update) the sources of a YAML file (default: datahub.sources_file)."""
    runtime = cli_runtime()
    file = path or runtime.settings.datahub.sources_file
    if file is None:
        fail("give a YAML file, or set datahub.sources_file")

    def declare() -> None:
        specs = load_file(file)
        with cli_session(runtime) as session:
            for spec in specs:
                save_source(session, spec)
            session.commit()
        click.echo(f"{len(specs)} source(s) declared from {file}")

    guard(declare)


@datahub.command("list")
def list_sources() -> None:
    """Every source with its state and why."""
    runtime = cli_runtime()
    with cli_session(runtime) as session:
        for source in session.scalars(select(DataSource).order_by(DataSource.code)):
            reason = f"  ({source.state_reason})" if source.state_reason else ""
            click.echo(f"{source.code:30} {source.kind:10} {source.state:8}{reason}")


@datahub.command("run")
@click.argument("code")
def run(code: str) -> None:
    """Run one source now and print its counts (exit code 2 when the run fails)."""
    runtime = cli_runtime()

    def run_once() -> None:
        outcome = run_source(runtime, code, started_by="cli")
        click.echo(
            f"{outcome.status}: fetched {outcome.fetched}, new {outcome.new}, updated "
            f"{outcome.updated}, unchanged {outcome.unchanged}, rejected {outcome.rejected}"
        )
        if outcome.error:
            fail(outcome.error)

    guard(run_once)
