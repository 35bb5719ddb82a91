"""`dieuhanh indicators`: load the indicator set and report forms."""

from __future__ import annotations

from pathlib import Path

import click

from dieuhanh.core.cli import cli_runtime, cli_session, guard


@click.group()
def indicators() -> None:
    """Indicator set and report forms: load configuration."""


@indicators.command("load")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Overwrite records whose code exists already.")
def indicators_load(files: tuple[Path, ...], update: bool) -> None:
    """Load data elements, forms, indicators and rules from YAML FILES (none: the shipped
    national-8 and provincial sets). Existing codes are kept unless --update."""
    from dieuhanh.indicators import loader
    from dieuhanh.indicators.values.dvsformat import decode

    runtime = cli_runtime()

    def run() -> None:
        texts = (
            [(file.name, decode(file.read_bytes(), file.name)) for file in files]
            if files
            else loader.shipped_files()
        )
        with cli_session(runtime) as session:
            report = loader.load(
                session, texts, province_code=runtime.settings.province_code, update=update
            )
            session.commit()
        click.echo(report.summary())

    guard(run)
