"""The manifest a capability declares in its own ``capability.py`` as ``CAPABILITY``.

The app, the CLI, the migrations, the page shell, the scheduler and the event dispatcher loop
over one list of manifests (``dieuhanh.capabilities``): adding a capability means adding its
folder and one line to that list, and nothing else. A manifest is plain data; the registries it
feeds (routes, navigation, templates, jobs, topics, subscriptions, extensions) are built by the
app factory and the runtime, never at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter, FastAPI, Request
    from sqlalchemy.orm import Session

    from dieuhanh.core.access import Principal
    from dieuhanh.core.events import Subscription, Topic
    from dieuhanh.core.jobs import Job
    from dieuhanh.core.runtime import Runtime
    from dieuhanh.core.web.shell import NavItem

# Who sent a request (``csrf_from_header``: a cookie-authenticated change must carry the CSRF
# header). Exactly one capability (auth) provides it; without one every request is anonymous.
PrincipalResolver = Callable[["Request", "Session", bool], "Principal | None"]


@dataclass
class DemoPart:
    """What a capability's part of `dieuhanh demo` set up: lines for the banner, and how to stop
    what it left running (simulated cameras, stand-in servers)."""

    banner: list[str] = field(default_factory=list)
    stop: Callable[[], None] | None = None


@dataclass(frozen=True)
class Capability:
    """What one capability brings. Only ``name`` and ``package`` are required."""

    name: str  # short and unique, e.g. "cameras"; also the prefix of its topics and jobs
    package: str  # the Python package, e.g. "dieuhanh.cameras"
    title: str = ""
    # Modules defining SQLAlchemy models: imported so the metadata (and migrations) see them.
    models: Sequence[ModuleType] = ()
    api_routers: Sequence[APIRouter] = ()
    page_routers: Sequence[APIRouter] = ()
    nav: Sequence[NavItem] = ()
    # Background jobs, built for a runtime (run by `demo` and `worker`, never by `serve`).
    jobs: Callable[[Runtime], Sequence[Job]] | None = None
    # Topics this capability publishes, and what it does with others' events.
    topics: Sequence[Topic] = ()
    subscriptions: Callable[[Runtime], Sequence[Subscription]] | None = None
    # `dieuhanh <name> ...` commands.
    cli: click.Group | None = None
    # Values available in every page template, computed per request (e.g. the province's name).
    template_globals: Mapping[str, Callable[[Request], Any]] = field(default_factory=dict)
    # Implementations this capability contributes to extension points declared by others
    # (a lower capability asks ``runtime.extensions.of(NAME)`` instead of importing a higher one).
    contributes: Mapping[str, Sequence[object]] = field(default_factory=dict)
    resolve_principal: PrincipalResolver | None = None
    # Sample data and simulators for `dieuhanh demo`, after the province is set up (idempotent).
    demo: Callable[[Runtime], DemoPart | None] | None = None
    # Called once per runtime (install session hooks) and once per app (mount extra routes).
    on_runtime: Callable[[Runtime], None] | None = None
    on_app: Callable[[FastAPI, Runtime], None] | None = None

    def _folder(self, name: str) -> Path | None:
        folder = Path(str(resources.files(self.package))) / name
        return folder if folder.is_dir() else None

    @property
    def templates_dir(self) -> Path | None:
        """``<package>/templates`` (templates live in ``templates/<name>/`` to avoid clashes)."""
        return self._folder("templates")

    @property
    def static_dir(self) -> Path | None:
        """``<package>/static``, served under ``/static/`` beside the shell's own files."""
        return self._folder("static")


class Extensions:
    """Implementations contributed to named extension points, gathered from every manifest."""

    def __init__(self, capabilities: Iterable[Capability] = ()) -> None:
        self._by_point: dict[str, list[object]] = {}
        for capability in capabilities:
            for point, items in capability.contributes.items():
                self._by_point.setdefault(point, []).extend(items)

    def of(self, point: str) -> list[object]:
        return list(self._by_point.get(point, ()))


def check_unique(capabilities: Sequence[Capability]) -> None:
    """Two capabilities with one name would share topics, jobs and CLI groups: refuse at start."""
    seen: set[str] = set()
    for capability in capabilities:
        if capability.name in seen:
            raise ValueError(f"two capabilities are named {capability.name!r}")
        seen.add(capability.name)
