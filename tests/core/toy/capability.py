"""The toy capability's manifest: an API route, a page with its template and script, a
navigation entry, a job and a command group — and nothing edited outside this folder."""

from __future__ import annotations

import click
from dieuhanh.core.jobs import Job
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dieuhanh.core.capability import Capability
from dieuhanh.core.cli import cli_runtime
from dieuhanh.core.http.deps import CurrentPrincipal
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render

api = api_router("toy")
pages = APIRouter(include_in_schema=False)
RUNS: list[str] = []  # what the toy job did, for the test to see


@api.get("/toy/hello")
def hello(principal: CurrentPrincipal) -> dict[str, str]:
    return {"hello": principal.username}


@pages.get("/toy", response_class=HTMLResponse)
def toy_page(request: Request, principal: PagePrincipal) -> HTMLResponse:
    return render(request, "toy/hello.html", principal, greeting=f"Xin chào {principal.username}")


def jobs(runtime: Runtime) -> list[Job]:
    return [Job("toy.count", 60, lambda: RUNS.append(runtime.settings.province_code))]


@click.group()
def toy() -> None:
    """The toy capability's commands."""


@toy.command("province")
def province() -> None:
    """Print the configured province code."""
    click.echo(cli_runtime().settings.province_code)


CAPABILITY = Capability(
    name="toy",
    package="tests.core.toy",
    title="Toy",
    api_routers=(api,),
    page_routers=(pages,),
    nav=(NavItem("/toy", "Toy", order=95),),
    jobs=jobs,
    cli=toy,
)
