"""A small indicator set for the tests of the write path, imports and the API: built through the
same service functions the API and the configuration loader use.

COMMUNE_FORM (monthly, on time within 2 days, entry closes 15 days after the month, approval
required) is reported by Lộc Thạnh (25280) and Long Thành (26368), the test communes.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.auth.service import find_user, principal_for
from dieuhanh.core.access import Principal
from dieuhanh.indicators.catalog import metadata
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import DataValue, DataValueChange
from dieuhanh.indicators.catalog.schemas import DataElementIn, DisaggregationIn, OptionIn
from dieuhanh.indicators.reporting import forms
from dieuhanh.indicators.reporting.schemas import FormIn
from dieuhanh.units.models import Unit
from tests.conftest import LOC_THANH, LONG_THANH

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# 5 April 2026: March (202603) is open until the end of 15 April; January is closed.
NOW = datetime(2026, 4, 5, 10, 0, tzinfo=VN)
FORM = "COMMUNE_FORM"


def principal(session: Session, username: str) -> Principal:
    user = find_user(session, username)
    assert user is not None
    return principal_for(session, user, via="api")


def unit(session: Session, code: str) -> Unit:
    return session.scalars(select(Unit).where(Unit.code == code)).one()


def build(session: Session) -> ReportForm:
    metadata.save_disaggregation(
        session,
        DisaggregationIn(
            code="VIA",
            name="Kênh",
            options=[
                OptionIn(code="ONLINE", name="Trực tuyến"),
                OptionIn(code="IN_PERSON", name="Trực tiếp"),
            ],
        ),
    )
    for code, value_type, disaggregation in (
        ("PROCESSED", "integer", "VIA"),
        ("OVERDUE", "integer", "VIA"),
        ("RATE", "percentage", None),
        ("AMOUNT", "number", None),
        ("NOTE", "text", None),
        ("HAS_PLAN", "boolean", None),
    ):
        metadata.save_element(
            session,
            DataElementIn(
                code=code,
                name=f"Chỉ tiêu {code}",
                value_type=value_type,
                disaggregation=disaggregation,
                domain="public_services",
            ),
        )
    form = forms.save_form(
        session,
        FormIn(
            code=FORM,
            name="Biểu xã hằng tháng",
            period_type="monthly",
            timely_days=2,
            expiry_days=15,
            approval_required=True,
            elements=["PROCESSED", "OVERDUE", "RATE", "AMOUNT", "NOTE", "HAS_PLAN"],
            units=[LOC_THANH, LONG_THANH],
        ),
        "75",
    )
    session.commit()
    return form


def stored(session: Session) -> dict[tuple[str, str, str, str], tuple[str, str | None]]:
    """Every stored value as (element code, unit code, period, option) → (value, comment)."""
    from dieuhanh.indicators.catalog.models import DataElement

    rows = session.execute(
        select(DataElement.code, Unit.code, DataValue.period_code, DataValue.option,
               DataValue.value, DataValue.comment)
        .join(DataElement, DataElement.id == DataValue.element_id)
        .join(Unit, Unit.id == DataValue.unit_id)
    )  # fmt: skip
    return {(e, u, p, o): (v, c) for e, u, p, o, v, c in rows}


def history(session: Session) -> list[DataValueChange]:
    return list(session.scalars(select(DataValueChange).order_by(DataValueChange.id)))
