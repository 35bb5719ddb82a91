"""The toy capability's manifest: an API route, a page with its template and script, a
navigation entry, a job, a command group, a topic it publishes and a subscriber to it — and
nothing edited outside this folder."""

from __future__ import annotations

import time

import click
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from dieuhanh.core.capability import Capability
from dieuhanh.core.cli import cli_runtime
from dieuhanh.core.db.meta import get_meta, set_meta
from dieuhanh.core.events import EventRecord, Subscription, Topic, publish
from dieuhanh.core.http.deps import CurrentPrincipal, Db
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render

api = api_router("toy")
pages = APIRouter(include_in_schema=False)
RUNS: list[str] = []  # what the toy job did, for the test to see


@api.get("/toy/hello")
def hello(principal: CurrentPrincipal) -> dict[str, str]:
    return {"hello": principal.username}


class Greeted(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    number: int


GREETED = Topic("toy.greeted", Greeted, "Somebody greeted the toy through its API.")
HANDLED = "toy.greetings_handled"  # app_meta key: how many greetings the subscriber handled
HANDLER_DELAY_SECONDS = 0.1  # so that a worker killed mid-batch is killed inside a batch (0.02 s
# was too short on a loaded machine: all 40 were handled between two polls of the test)


@api.post("/toy/greet")
def greet(number: int, db: Db, principal: CurrentPrincipal) -> dict[str, int]:
    event = publish(db, GREETED.name, Greeted(username=principal.username, number=number))
    db.commit()
    return {"event_id": event.id}


def count_greeting(session: Session, event: EventRecord) -> None:
    """The subscriber: its changes commit with its cursor, so each greeting counts once."""
    time.sleep(HANDLER_DELAY_SECONDS)
    handled = int(get_meta(session, HANDLED) or 0) + 1
    set_meta(session, HANDLED, str(handled))
    set_meta(session, f"toy.greeting.{event.payload['number']}", str(event.id))


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription("toy.greetings", (GREETED.name,), count_greeting, start="earliest")]


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
    topics=(GREETED,),
    subscriptions=subscriptions,
)
