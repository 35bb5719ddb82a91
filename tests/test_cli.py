"""The `dieuhanh` command as a user runs it: real processes, real files."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest

from dieuhanh.core.runtime import Runtime
from tests.processes import kill

pytestmark = pytest.mark.slow


def dieuhanh(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dieuhanh", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        cwd=cwd,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any DIEUHANH_ setting, plus the given ones."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    return {**clean, **settings}


@contextmanager
def running_demo(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """Runs `dieuhanh demo` until the block ends; its output lines are filled in then."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dieuhanh",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo did not come up"
            time.sleep(0.2)
        lines: list[str] = []
        yield base, lines
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        finally:
            kill(process)  # a demo that ignored SIGTERM: killed, the test fails on the timeout
        lines.extend(output.splitlines())


def demo_token(base: str, username: str, password: str) -> httpx.Response:
    """A login as a client of the demo makes it: while the demo's subscribers work through a
    month of figures, a write may wait for SQLite's lock up to the lock timeout, then the API
    answers 503 with Retry-After, which a client honours (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        credentials = {"username": username, "password": password}
        response = httpx.post(f"{base}/api/v1/auth/token", json=credentials, timeout=30)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))


def test_demo_first_and_second_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    with running_demo(data_dir, environment()) as (_, first):
        pass
    generated = re.search(r"admin password: (\S+)", "\n".join(first))
    assert generated, "\n".join(first)
    with running_demo(data_dir, environment()) as (base, second):
        token = demo_token(base, "admin", generated.group(1)).json()["access_token"]
        units = httpx.get(
            f"{base}/api/v1/units?parent=75",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
    assert len(units) == 95
    assert not re.search(r"admin password: \S+-\S+", "\n".join(second)), "password printed twice"
    assert any("ready in" in line for line in second)


def test_admin_password_from_the_environment(tmp_path: Path) -> None:
    with running_demo(tmp_path, environment(DIEUHANH_ADMIN_PASSWORD="mật-khẩu-quản-trị")) as (
        base,
        _,
    ):
        assert demo_token(base, "admin", "mật-khẩu-quản-trị").status_code == 200
        assert demo_token(base, "locthanh", "mật-khẩu-quản-trị").status_code == 200


def test_serve_requires_a_database_url(tmp_path: Path) -> None:
    result = dieuhanh("serve", env={"DIEUHANH_DATABASE_URL": ""}, cwd=tmp_path)
    assert result.returncode == 2
    assert "DIEUHANH_DATABASE_URL is required" in result.stderr


def test_bad_configuration_names_the_key(tmp_path: Path) -> None:
    result = dieuhanh("config", "show", env={"DIEUHANH_AUTH__SESSION_HOURS": "-1"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "auth.session_hours" in result.stderr and "DIEUHANH_AUTH__SESSION_HOURS" in result.stderr


def test_unit_list_import_with_errors_lists_them_and_writes_nothing(
    sqlite_runtime: Runtime, tmp_path: Path
) -> None:
    url = sqlite_runtime.settings.effective_database_url
    bad = tmp_path / "donvi.csv"
    bad.write_text(
        "mã,tên,loại,mã cấp trên\nBQLDA,Ban Quản lý dự án,department,75\n"
        "BQLDA,Ban trùng mã,department,75\nXYZ,Sở Mới,department,99\n",
        encoding="utf-8",
    )
    result = dieuhanh("units", "import", "list", str(bad), env={"DIEUHANH_DATABASE_URL": url})
    assert result.returncode == 2
    assert "duplicate code BQLDA (first on line 2)" in result.stderr
    assert "unknown parent 99" in result.stderr
    good = tmp_path / "ok.csv"
    good.write_text("code,name,type\nBQLDA,Ban Quản lý dự án đầu tư xây dựng tỉnh,department\n")
    result = dieuhanh("units", "import", "list", str(good), env={"DIEUHANH_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert '"created": [\n  "BQLDA"' in result.stdout


def test_users_create_and_short_password(sqlite_runtime: Runtime) -> None:
    env = {"DIEUHANH_DATABASE_URL": sqlite_runtime.settings.effective_database_url}
    short = dieuhanh(
        "users",
        "create",
        "canbo",
        "--role",
        "viewer",
        "--unit",
        "75",
        "--password-stdin",
        env=env,
        stdin="short\n",
    )
    assert short.returncode == 2 and "Password too short" in short.stderr
    made = dieuhanh(
        "users",
        "create",
        "canbo",
        "--role",
        "commune_officer",
        "--unit",
        "25280",
        "--full-name",
        "Nguyễn Văn Cán Bộ",
        "--password-stdin",
        env=env,
        stdin="một-mật-khẩu-đủ-dài\n",
    )
    assert made.returncode == 0, made.stderr
    assert "Xã Lộc Thạnh" in made.stdout


def test_boundary_import_reports_joins(sqlite_runtime: Runtime, tmp_path: Path) -> None:
    from importlib import resources

    data = (
        resources.files("dieuhanh.gis").joinpath("data/dong_nai_communes.geojson.gz").read_bytes()
    )
    path = tmp_path / "communes.geojson.gz"
    path.write_bytes(data)
    env = {"DIEUHANH_DATABASE_URL": sqlite_runtime.settings.effective_database_url}
    result = dieuhanh("units", "import", "boundaries", str(path), "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "95 of 95 features joined (4 by name)" in result.stdout
    assert "by name: feature" in result.stdout and "Xã Phú Riềng (25264)" in result.stdout
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [}')
    result = dieuhanh("units", "import", "boundaries", str(broken), env=env)
    assert result.returncode == 2 and "broken.geojson: not valid JSON" in result.stderr


def test_config_docs_are_printed() -> None:
    result = dieuhanh("config", "docs")
    assert result.returncode == 0 and "DIEUHANH_DATABASE_URL" in result.stdout
