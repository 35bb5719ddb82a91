"""`dieuhanh gateway` as separate processes: transcodes, scale-out, and no orphan when killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.sync.client import connect

from dieuhanh.app import create_app
from dieuhanh.gateway.fmp4 import Fragment, InitSegment, SegmentReader
from dieuhanh.gateway.nodes import node_for
from dieuhanh.simulator import SimulatedCamera, run_simulator
from tests.browser import free_port, serving_app
from tests.conftest import CREDENTIAL_KEY, PASSWORD, TEST_CAMERA_NETWORKS
from tests.processes import kill, stop

pytestmark = pytest.mark.slow
SECRET = "shared-gateway-secret"


@pytest.fixture(scope="module")
def h265(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    mounts = [SimulatedCamera(f"/cam{n}", codec="h265") for n in range(6)]
    with run_simulator(mounts, cache_dir=tmp_path_factory.mktemp("clips")) as sim:
        yield sim


def environment(database_url: str, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    return {
        **clean,
        "DIEUHANH_DATABASE_URL": database_url,
        "DIEUHANH_GATEWAY__SECRET": SECRET,
        "DIEUHANH_GATEWAY__HEARTBEAT_SECONDS": "0.5",
        "DIEUHANH_GATEWAY__IDLE_SECONDS": "60",
        "DIEUHANH_CAMERAS__CREDENTIAL_KEYS": f'["{CREDENTIAL_KEY}"]',
        "DIEUHANH_CAMERAS__ALLOWED_NETWORKS": json.dumps(TEST_CAMERA_NETWORKS),
        **extra,
    }


@contextmanager
def gateway_node(database_url: str, node_id: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "dieuhanh", "gateway", "--host", "127.0.0.1", "--port", str(port),
         "--node-id", node_id, "--public-url", url],
        env=environment(database_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(f"{url}/gw/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gateway node did not start"
            time.sleep(0.1)
        yield process, url
    finally:
        try:
            if process.poll() is None:
                stop(process, signal.SIGTERM, timeout=15)
        finally:
            kill(process)
            if process.stderr is not None:
                process.stderr.close()


@contextmanager
def api(database_url: str, make_runtime: Any) -> Iterator[httpx.Client]:
    runtime = make_runtime(database_url, gateway={"secret": SECRET, "embedded": False,
                                                  "heartbeat_seconds": 0.5})  # fmt: skip
    with (
        serving_app(create_app(runtime=runtime)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


@pytest.fixture
def shared_database(backend_pool: Any) -> Iterator[str]:
    backend = backend_pool.get("sqlite")
    url = backend.copy_template()
    yield url
    backend.drop(url)


def register(client: httpx.Client, url: str) -> int:
    response = client.post("/api/v1/cameras", json={"name": "Camera", "unit_code": "25280",
                                                    "stream_url": url})  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def first_items(url: str, count: int) -> list[InitSegment | Fragment]:
    reader, items = SegmentReader(), []
    with connect(url, open_timeout=20) as socket:
        while len(items) < count:
            items.extend(reader.feed(socket.recv(timeout=20)))
    return items


def descendants(pid: int) -> set[int]:
    """Processes whose parent chain leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
    except OSError:
        return "?"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_transcoding_node_leaves_no_orphan_when_killed(shared_database: str, make_runtime: Any,
                                                       h265: Any) -> None:  # fmt: skip
    with (
        gateway_node(shared_database, "gw-a") as (process, node_url),
        api(shared_database, make_runtime) as client,
    ):
        camera_id = register(client, h265.url("/cam0"))
        stream = client.get(f"/api/v1/cameras/{camera_id}/stream", params={"codecs": "avc1"}).json()
        assert (stream["node"], stream["transcoded"], stream["codec"]) == ("gw-a", True, "h264")
        assert stream["mse_url"].startswith(node_url.replace("http", "ws"))
        items = first_items(stream["mse_url"], 3)
        assert isinstance(items[0], InitSegment) and items[0].codec == "h264"
        assert isinstance(items[1], Fragment) and items[1].keyframe
        workers = descendants(process.pid)
        assert workers, "the transcode runs in a child process"
        for pid in workers:
            assert "transcode_worker" in Path(f"/proc/{pid}/cmdline").read_text()
            assert "Cam" not in Path(f"/proc/{pid}/cmdline").read_text()  # no URL in argv
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = {pid: command_of(pid) for pid in workers if alive(pid)}
        assert not survivors, f"outlived the killed gateway: {survivors}"


def test_cameras_are_spread_and_rebalanced_when_a_node_leaves(
    shared_database: str, make_runtime: Any, h265: Any
) -> None:
    with (
        gateway_node(shared_database, "gw-a") as (a, _),
        gateway_node(shared_database, "gw-b"),
        api(shared_database, make_runtime) as client,
    ):
        deadline = time.monotonic() + 10
        while len(client.get("/api/v1/gateway/nodes").json()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        ids = [register(client, h265.url(f"/cam{n}")) for n in range(6)]
        placed = {
            i: client.get(f"/api/v1/cameras/{i}/stream", params={"codecs": "hvc1"}).json()["node"]
            for i in ids
        }
        assert placed == {i: node_for(i, ["gw-a", "gw-b"]) for i in ids}
        assert set(placed.values()) == {"gw-a", "gw-b"}  # both nodes take cameras
        stream = client.get(f"/api/v1/cameras/{ids[0]}/stream", params={"codecs": "hvc1"}).json()
        assert isinstance(first_items(stream["mse_url"], 2)[1], Fragment)
        a.send_signal(signal.SIGKILL)  # gw-a disappears without saying goodbye
        a.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            nodes = [n["node_id"] for n in client.get("/api/v1/gateway/nodes").json()]
            if nodes == ["gw-b"]:
                break
            time.sleep(0.2)
        after = {
            i: client.get(f"/api/v1/cameras/{i}/stream", params={"codecs": "hvc1"}).json()["node"]
            for i in ids
        }
        assert set(after.values()) == {"gw-b"}
        assert all(after[i] == placed[i] for i in ids if placed[i] == "gw-b")  # the others stay put


def test_transcode_cap(shared_database: str, make_runtime: Any, h265: Any) -> None:
    runtime = make_runtime(shared_database, gateway={"secret": SECRET, "max_transcodes": 1})
    with (
        serving_app(create_app(runtime=runtime)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        first, second = register(client, h265.url("/cam1")), register(client, h265.url("/cam2"))
        stream = client.get(f"/api/v1/cameras/{first}/stream", params={"codecs": "avc1"}).json()
        with connect(stream["mse_url"]) as socket:
            socket.recv(timeout=20)
            refused = client.get(f"/api/v1/cameras/{second}/stream", params={"codecs": "avc1"})
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "transcode_limit"
            assert "1 transcoding slots" in refused.json()["error"]["message"]
            again = client.get(f"/api/v1/cameras/{first}/stream", params={"codecs": "avc1"})
            assert again.status_code == 200  # joining the running transcode costs no slot
            passthrough = client.get(f"/api/v1/cameras/{second}/stream", params={"codecs": "hvc1"})
            assert passthrough.status_code == 200 and passthrough.json()["transcoded"] is False
