"""`dieuhanh units`: import the official list or a unit file, search, rename."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dieuhanh.core.cli import cli_runtime, cli_session, guard


@click.group()
def units() -> None:
    """Units: import, search, rename."""


@units.group("import")
def units_import() -> None:
    """Import units or their boundaries."""


@units_import.command("reference")
def import_reference() -> None:
    """(Re)load the 34 provinces and 3,321 communes/wards from vietnam-provinces."""
    from dieuhanh.units.catalog import load_reference

    runtime = cli_runtime()

    def run() -> None:
        with cli_session(runtime) as session:
            report = load_reference(session)
            session.commit()
        click.echo(
            f"{report.provinces} provinces, {report.communes} communes/wards; "
            f"{report.created} created, {report.unchanged} already present"
        )
        for line in report.differing[:50]:
            click.echo(f"  differs: {line}")

    guard(run)


@units_import.command("list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file without writing.")
def import_list(file: Path, dry_run: bool) -> None:
    """Import a CSV/JSON list of units (code,name,type,parent_code,...), e.g. departments."""
    from dieuhanh.units.listfile import import_unit_list

    runtime = cli_runtime()

    def run() -> None:
        with cli_session(runtime) as session:
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

    guard(run)


@units.command("search")
@click.argument("text")
def search_command(text: str) -> None:
    """Find units by name (diacritics and prefix optional)."""
    from dieuhanh.units.search import search_units
    from dieuhanh.units.service import find_unit

    runtime = cli_runtime()
    with cli_session(runtime) as session:
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

    runtime = cli_runtime()

    def run() -> None:
        with cli_session(runtime) as session:
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

    guard(run)
