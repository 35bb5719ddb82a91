"""The package's layering, checked on every test run: the import-linter contracts of
pyproject.toml, and no two top-level folders of ``src/dieuhanh`` importing each other (capabilities
talk through events or registered protocols, never both ways)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dieuhanh"
INDICATORS_CONTRACT = "Indicators is layered: analytics, reporting, values, catalogue"
OUTER_CONTRACT = "The package is layered: composition root, capabilities, kernel"


def lint_imports() -> str:
    command = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    # subprocess.run kills the child when the timeout expires.
    done = subprocess.run(
        [str(command), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Contracts:" in done.stdout, done.stdout + done.stderr
    return done.stdout


def broken_section(report: str, contract: str) -> str:
    """The violations listed under ``contract`` in the report's broken contracts."""
    _, _, broken = report.partition("Broken contracts")
    _, found, rest = broken.partition(f"\n{contract}\n")
    if not found:
        return ""
    heading = rest.find("\n\n\n", rest.find("\n\n") + 2)
    return rest if heading < 0 else rest[:heading]


def test_every_layer_contract_is_kept() -> None:
    report = lint_imports()
    assert f"{OUTER_CONTRACT} KEPT" in report, broken_section(report, OUTER_CONTRACT) or report
    assert f"{INDICATORS_CONTRACT} KEPT" in report, report
    assert "BROKEN" not in report, report


def imported_folders(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    parts = [name.split(".") for name in names]
    return {p[1] for p in parts if p[0] == "dieuhanh" and len(p) > 1 and (PACKAGE / p[1]).is_dir()}


def test_no_two_top_level_folders_import_each_other() -> None:
    edges: set[tuple[str, str]] = set()
    for source in PACKAGE.rglob("*.py"):
        relative = source.relative_to(PACKAGE).parts
        if len(relative) < 2 or "migrations" in relative:
            continue
        edges.update((relative[0], folder) for folder in imported_folders(source))
    both_ways = sorted(f"{a}<->{b}" for a, b in edges if a < b and (b, a) in edges)
    assert both_ways == [], both_ways
