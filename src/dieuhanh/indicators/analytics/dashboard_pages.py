"""The indicator dashboard: tiles, year-over-year charts, units × periods and the choropleth.

The page carries only the indicators' definitions; every figure on it is read by the browser
from ``GET /api/v1/analytics`` (``static/js/dashboard.js``), which computes from the values
stored now, so the dashboard is as current as the last value saved.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.indicators.catalog.models import Indicator
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/indicators/dashboard", "nav.indicators", order=40)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def indicator_json(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "name": indicator.name,
        "domain": indicator.domain,
        "decimals": indicator.decimals,
        "unitOfMeasure": indicator.unit_of_measure,
        "direction": indicator.direction,
        "target": indicator.target,
        "legend": indicator.legend,
        "description": indicator.description,
    }


def dashboard_unit(
    session: Session, principal: Principal, province_code: str, code: str | None
) -> Unit:
    """The unit whose figures the tiles show: the one asked for if it may be seen; else the
    province for those who see all of it, and one's own unit for everyone else."""
    if code:
        unit = get_unit(session, code)
        authorize(principal, "read", unit.id, unit.name)
        return unit
    if principal.read_scope.is_everything:
        return get_unit(session, province_code)
    return get_unit(session, principal.unit_code)


@router.get("/indicators/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    domain: str | None = None,
    unit: str | None = None,
    indicator: str | None = None,
) -> Response:
    everything = list(db.scalars(select(Indicator).order_by(Indicator.domain, Indicator.code)))
    domains = sorted({i.domain for i in everything if i.domain})
    chosen_domain = domain if domain in domains else None
    shown = [i for i in everything if chosen_domain is None or i.domain == chosen_domain]
    target = dashboard_unit(db, principal, runtime.settings.province_code, unit)
    selected = indicator if indicator in {i.code for i in shown} else None
    config = {
        "unit": target.code,
        "unitName": target.name,
        "province": runtime.settings.province_code,
        "thisMonth": period_of(PeriodType.MONTHLY, runtime.today()).code,
        "indicators": [indicator_json(i) for i in shown],
        "selected": selected or (shown[0].code if shown else None),
        "seesAll": principal.read_scope.is_everything,
    }
    return render(
        request,
        "indicators/dashboard.html",
        principal,
        domains=domains,
        domain=chosen_domain,
        indicators=shown,
        unit=target,
        unit_param=target.code if unit else None,
        config=config,
        map_settings=runtime.settings.map,
    )
