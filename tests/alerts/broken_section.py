"""A capability contributing three sections to the daily briefing, added through the ``plugins``
setting by ``test_briefing_sections``: one fails inside the database (a statement that, on
PostgreSQL, aborts the transaction unless its savepoint is rolled back), one offers a link off
this site, one works — its words holding HTML that must come out escaped."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dieuhanh.core.briefing import (
    BRIEFING_SECTIONS,
    BriefingFor,
    BriefingSection,
    SectionContributor,
    Sentence,
)
from dieuhanh.core.capability import Capability
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.models import Unit

TITLE = "Đơn vị <b>thử</b>"


def failing(session: Session, runtime: Runtime, asked: BriefingFor) -> BriefingSection:
    session.execute(text("SELECT nothing FROM no_such_table"))
    raise AssertionError("the statement above fails")


def off_site(session: Session, runtime: Runtime, asked: BriefingFor) -> BriefingSection:
    return BriefingSection("Lừa", (Sentence("Bấm vào đây.", "javascript:alert(1)"),))


def working(session: Session, runtime: Runtime, asked: BriefingFor) -> BriefingSection:
    units = session.scalar(select(func.count()).select_from(Unit))
    sentence = Sentence(f"Có {units} đơn vị & <script>x()</script>.", "/units?a=1&b=2",
                        "SELECT count(*) FROM units")  # fmt: skip
    return BriefingSection(TITLE, (sentence,))


CAPABILITY = Capability(
    name="broken_section",
    package="tests.alerts",
    contributes={
        BRIEFING_SECTIONS: (
            SectionContributor("broken_section.failing", failing),
            SectionContributor("broken_section.off_site", off_site),
            SectionContributor("broken_section.working", working),
        )
    },
)
