"""The chat panel: a page that posts to the ask API; answers show their figures, the query run,
links, and a small chart when a trend is asked (the indicators dashboard's chart code)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dieuhanh.assistant.service import SUGGESTIONS
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/assistant", "nav.assistant", order=12)]


@router.get("/assistant", response_class=HTMLResponse)
def assistant_page(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "assistant/chat.html", principal, suggestions=SUGGESTIONS)
