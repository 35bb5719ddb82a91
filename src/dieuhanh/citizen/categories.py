"""Report categories: the shipped list (categories.yaml), put in the database by migration 0015,
then the administrators' to change (names, deadlines, handling units; codes stay)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import ReportCategory
from dieuhanh.core.errors import InvalidInput


def shipped() -> list[dict[str, Any]]:
    text = resources.files("dieuhanh.citizen").joinpath("categories.yaml").read_text("utf-8")
    return list(yaml.safe_load(text))


def ensure_categories(session: Session) -> int:
    """Add the shipped categories that are missing (by code); changed ones are left alone."""
    known = set(session.scalars(select(ReportCategory.code)))
    added = 0
    for item in shipped():
        if item["code"] not in known:
            session.add(ReportCategory(**item))
            added += 1
    session.flush()
    return added


def active_categories(session: Session) -> list[ReportCategory]:
    return list(
        session.scalars(
            select(ReportCategory).where(ReportCategory.active).order_by(ReportCategory.id)
        )
    )


def get_category(session: Session, code: str) -> ReportCategory:
    found = session.scalar(
        select(ReportCategory).where(ReportCategory.code == str(code)[:40], ReportCategory.active)
    )
    if found is not None:
        return found
    codes = ", ".join(c.code for c in active_categories(session))
    raise InvalidInput(f"Unknown category '{str(code)[:40]}': one of {codes}.",
                       code="unknown_category")  # fmt: skip
