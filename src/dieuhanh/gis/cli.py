"""`dieuhanh units import boundaries`: contributed to the units group by the gis manifest."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import click

from dieuhanh.core.cli import cli_runtime, cli_session, guard


@click.command("boundaries")
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

    runtime = cli_runtime()
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
        with cli_session(runtime) as session:
            report = import_boundaries(session, file.read_bytes(), file.name, options)
            session.commit()
        _print_boundary_report(report)

    guard(run)


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
