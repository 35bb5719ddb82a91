"""The code stays formatted, lint-free and type-checked (ruff, mypy --strict)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "format", "--check", "src", "tests", "bench"],
        ["ruff", "check", "src", "tests", "bench"],
        ["mypy"],
    ],
    ids=["format", "lint", "types"],
)
def test_static_checks(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
