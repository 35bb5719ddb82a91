"""The web shell: page rendering, navigation, language, login for pages, form CSRF checks.

Capabilities contribute navigation entries (``NavItem``) and templates under
``<capability>/templates/<capability>/``; the shell puts them in one layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from dieuhanh import __version__
from dieuhanh.core.access import ROLE_LABELS, Permission, Principal, Role
from dieuhanh.core.errors import DieuhanhError, Forbidden, Unauthorized
from dieuhanh.core.http.deps import Db, get_runtime, resolve_principal
from dieuhanh.core.web.i18n import LANGUAGES, Translator

LANG_COOKIE = "dieuhanh_lang"
SHELL_PACKAGE = "dieuhanh.core.web"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # catalog key
    permission: Permission | None = None
    order: int = 100


class LoginRequired(Unauthorized):
    """A page was asked for without a session: the browser is sent to the login page."""


def build_templates(template_dirs: Iterable[Path] = ()) -> Environment:
    """The shell's own templates (layout, error page), then each capability's folder."""
    shell = Path(str(resources.files(SHELL_PACKAGE))) / "templates"
    loader = ChoiceLoader([FileSystemLoader(str(d)) for d in (shell, *template_dirs)])
    env = Environment(loader=loader, autoescape=select_autoescape(["html"]), auto_reload=False)
    env.globals["version"] = __version__
    return env


def language_of(request: Request, principal: Principal | None) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if principal is not None and principal.language in LANGUAGES:
        return principal.language
    return str(get_runtime(request).settings.language)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    runtime = get_runtime(request)
    lang = language_of(request, principal)
    t = Translator(lang)
    zone = ZoneInfo(runtime.settings.timezone)
    env: Environment = request.app.state.templates
    nav = [
        item
        for item in request.app.state.nav
        if principal is not None and (item.permission is None or principal.can(item.permission))
    ]
    html = env.get_template(template).render(
        request=request,
        principal=principal,
        lang=lang,
        t=t,
        js_catalog=t.client_catalog(),
        nav=nav,
        path=request.url.path,
        **{name: compute(request) for name, compute in request.app.state.page_globals.items()},
        role_label=lambda role: ROLE_LABELS[lang][Role(role)],
        fmt_date=lambda value: _fmt_date(value),
        fmt_datetime=lambda value: _fmt_datetime(value, zone),
        fmt_value=lambda value: _fmt_value(value, zone),
        fmt_number=lambda value: fmt_number(value, lang),
        static=lambda path: f"/static/{path}?v={__version__}",
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _fmt_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _fmt_datetime(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M") if value else ""


def fmt_number(value: float | None, lang: str) -> str:
    """A figure as its readers write it: 1.234,5 in Vietnamese, 1,234.5 in English; at most
    two decimals, none when whole; nothing as a dash."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def _fmt_value(value: object, zone: ZoneInfo) -> str:
    """A stored value as a person reads it: ISO dates as dd/mm/yyyy, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return moment.strftime("%d/%m/%Y")
        return _fmt_datetime(moment, zone) if moment.tzinfo else moment.strftime("%d/%m/%Y %H:%M")
    return str(value)


def page_principal(request: Request, db: Db) -> Principal:
    principal = resolve_principal(request, db, csrf_from_header=False)
    if principal is None:
        raise LoginRequired("Log in to see this page.", code="not_authenticated")
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def check_form_csrf(principal: Principal, token: str | None) -> None:
    if principal.via == "web" and (not token or token != principal.csrf_token):
        raise Forbidden("The form has expired; reload the page and try again.", code="csrf_failed")


def safe_next(target: str | None) -> str:
    """Only redirect to a path on this site (never to another host after login)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def page_error(request: Request, exc: DieuhanhError, status: int | None = None) -> Response:
    if isinstance(exc, Unauthorized):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    lang = request.cookies.get(LANG_COOKIE) or get_runtime(request).settings.language
    t = Translator(lang if lang in LANGUAGES else "vi")
    env: Environment = request.app.state.templates
    html = env.get_template("error.html").render(
        t=t,
        lang=t.language,
        message=exc.message,
        status=status or exc.status,
        static=lambda path: f"/static/{path}?v={__version__}",
    )
    return HTMLResponse(html, status_code=status or exc.status)
