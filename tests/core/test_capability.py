"""A capability plugs in through its manifest alone: served, navigable, scheduled, commanded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dieuhanh.app import background_jobs, create_app
from dieuhanh.capabilities import CAPABILITIES, enabled_capabilities
from dieuhanh.core.capability import Capability, Extensions, check_unique
from dieuhanh.core.jobs import Scheduler
from dieuhanh.core.runtime import Runtime
from tests.aio import run as run_in_thread
from tests.conftest import login_form, token_for
from tests.core.toy import capability as toy

TOY = "tests.core.toy.capability"


@pytest.fixture
def toy_runtime(database_url: str, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(database_url, plugins=[TOY])


@pytest.fixture
def toy_client(toy_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=toy_runtime)) as client:
        yield client


def test_the_plugin_setting_appends_the_manifest(toy_runtime: Runtime) -> None:
    assert toy_runtime.capabilities[-1] is toy.CAPABILITY
    assert toy_runtime.capabilities[: len(CAPABILITIES)] == CAPABILITIES


def test_its_api_route_is_served_behind_login(toy_client: TestClient) -> None:
    assert toy_client.get("/api/v1/toy/hello").status_code == 401
    response = toy_client.get("/api/v1/toy/hello", headers=token_for(toy_client, "viewer"))
    assert response.json() == {"hello": "viewer"}
    assert "/api/v1/toy/hello" in toy_client.get("/api/v1/openapi.json").json()["paths"]


def test_its_page_renders_in_the_shell_with_its_navigation_and_script(
    toy_client: TestClient,
) -> None:
    assert login_form(toy_client, "viewer", next="/toy").status_code == 303
    page = toy_client.get("/toy")
    assert page.status_code == 200
    assert 'id="toy-greeting">Xin chào viewer<' in page.text
    assert 'href="/toy"' in page.text  # the navigation entry, in the shared layout
    script = toy_client.get("/static/js/toy.js")
    assert script.status_code == 200 and "toy-greeting" in script.text
    assert toy_client.get("/static/js/app.js").status_code == 200  # the shell's own files too


def test_its_job_is_scheduled(toy_runtime: Runtime) -> None:
    jobs = background_jobs(toy_runtime)
    assert "toy.count" in [job.name for job in jobs]
    toy.RUNS.clear()

    async def one_round() -> None:
        stop = asyncio.Event()
        scheduler = Scheduler(
            [job for job in jobs if job.name == "toy.count"], toy_runtime.sessions
        )
        task = asyncio.create_task(scheduler.run(stop))
        for _ in range(200):
            if toy.RUNS:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    run_in_thread(one_round())
    assert toy.RUNS == ["75"]


def test_its_command_group_joins_the_dieuhanh_command(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from dieuhanh import cli

    monkeypatch.setenv("DIEUHANH_DATABASE_URL", database_url)
    monkeypatch.setenv("DIEUHANH_DATA_DIR", str(tmp_path))
    main = cli.build_cli([*CAPABILITIES, toy.CAPABILITY])
    result = CliRunner().invoke(main, ["toy", "province"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "75"


def test_two_capabilities_with_one_name_are_refused() -> None:
    twin = Capability(name="toy", package="tests.core.toy")
    with pytest.raises(ValueError, match="two capabilities are named 'toy'"):
        check_unique([toy.CAPABILITY, twin])


def test_an_unknown_plugin_is_named(tmp_path) -> None:
    from dieuhanh.core.config import load_settings

    settings = load_settings(data_dir=tmp_path, plugins=["dieuhanh.core.text"])
    with pytest.raises(ValueError, match=r"plugins: dieuhanh\.core\.text has no CAPABILITY"):
        enabled_capabilities(settings)


def test_extensions_gather_every_contribution() -> None:
    first = Capability(name="a", package="x", contributes={"point": ("one",)})
    second = Capability(name="b", package="x", contributes={"point": ("two",), "other": (1,)})
    extensions = Extensions([first, second])
    assert extensions.of("point") == ["one", "two"]
    assert extensions.of("nothing") == []


def test_its_topic_is_listed_and_its_subscriber_handles_what_it_publishes(
    toy_runtime: Runtime, toy_client: TestClient
) -> None:
    from dieuhanh.app import Background
    from dieuhanh.core.db.meta import get_meta

    headers = token_for(toy_client, "viewer")
    topics = toy_client.get("/api/v1/events/topics", headers=headers).json()
    assert "toy.greeted" in [topic["name"] for topic in topics]
    bad = toy_client.post("/api/v1/toy/greet", params={"number": "x"}, headers=headers)
    assert bad.status_code == 422
    assert toy_client.post("/api/v1/toy/greet", params={"number": 1}, headers=headers).is_success
    background = Background.of(toy_runtime)
    assert "toy.greetings" in background.names() and "toy.count" in background.names()

    def handled() -> int:
        with toy_runtime.sessions() as session:
            return int(get_meta(session, toy.HANDLED) or 0)

    async def until_handled() -> None:
        from dieuhanh.core.events import run_dispatcher

        stop = asyncio.Event()
        task = asyncio.create_task(run_dispatcher(toy_runtime, background.subscriptions, stop))
        for _ in range(400):
            if handled():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=20)

    run_in_thread(until_handled())
    assert handled() == 1
