"""The briefing in words ("Tóm tắt tình hình tuần này", issue 14 part 4): what moved most among
the indicators in the last month reported, the reports not submitted, cameras down, alerts open
and citizen reports overdue. Every sentence is the answer of one query, run like any question's
(so the same scope applies), and every query is listed with the answer.

:func:`situation` writes the sentences; the chat's answer (:func:`brief`) and the daily
briefing's section (:mod:`dieuhanh.assistant.daily`) are both made of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dieuhanh.assistant.answer import number
from dieuhanh.assistant.periods import latest_month
from dieuhanh.assistant.query import Operation, Query
from dieuhanh.core.status import STATUS_PROVIDERS, provider
from dieuhanh.core.text import fold

if TYPE_CHECKING:
    from dieuhanh.assistant.service import Helper, Reply

MOVERS = 3
REPORT_FORM = "COMMUNE_MONTHLY"

# One sentence and the reply (figures, query, links) it was written from.
Said = tuple[str, "Reply"]


def brief(helper: Helper, query: Query) -> Reply:
    from dieuhanh.assistant.service import Reply

    home = query.units[0] if query.units else helper.vocabulary.province.code
    said = situation(helper, home)
    parts = [reply for _, reply in said]
    head = (
        f"Tóm tắt tình hình đến ngày {helper.today:%d/%m/%Y} "
        "(số liệu chỉ số tháng gần nhất đã báo cáo):"
    )
    return Reply(
        " ".join([head, *(sentence for sentence, _ in said)]),
        figures=[f for r in parts for f in r.figures],
        queries=[q for r in parts for q in r.queries],
        links=[link for r in parts for link in r.links][:12],
        # The briefing's date is stated with it (day, month, year), not a figure.
        derived=[d for r in parts for d in r.derived]
        + [float(helper.today.day), float(helper.today.month), float(helper.today.year)],
        items=[i for r in parts for i in r.items],
        context=None,
    )


def situation(helper: Helper, home: str) -> list[Said]:
    """The sentences about ``home`` (a unit code) as of ``helper.today``, each with its reply.
    Everything is within ``helper.principal``'s scope: the queries run through ``helper.run``."""
    month = latest_month(helper.today).code
    # A briefing of the whole province (read by someone who reads all of it) speaks of every
    # commune's reports and of the data sources; any other unit's, of that unit alone.
    whole = home == helper.vocabulary.province.code and helper.principal.read_scope.is_everything
    said = [(reply.answer, reply) for reply in _movers(helper, home, month)]
    if REPORT_FORM in helper.vocabulary.forms:
        reporting = Query(
            Operation.REPORTING, REPORT_FORM, units=() if whole else (home,),
            level="commune" if whole else None, periods=(month,),
        )  # fmt: skip
        reply = helper.run(reporting)
        said.append((reply.answer, reply))
    for subject in _subjects(helper, whole):
        reply = helper.run(Query(Operation.STATUS, units=(home,), subject=subject))
        if reply.figures:
            said.append((_counts(reply) + ".", reply))
    return said


def _movers(helper: Helper, home: str, month: str) -> list[Reply]:
    """The rate indicators of ``home`` that moved most from the month before to ``month``."""
    moves = []
    for code, measure in sorted(helper.vocabulary.measures.items()):
        if measure.is_element or measure.unit_of_measure != "%" or "luy ke" in fold(measure.name):
            continue  # a running total (lũy kế) grows every month: its move is not news
        reply = helper.run(Query(Operation.COMPARE_PREVIOUS, code, units=(home,), periods=(month,)))
        if reply.derived:
            moves.append((abs(reply.derived[0]), code, reply))
    moves.sort(key=lambda item: (-item[0], item[1]))
    return [reply for *_, reply in moves[:MOVERS]]


def _subjects(helper: Helper, whole: bool) -> list[str]:
    offered = helper.runtime.extensions.of(STATUS_PROVIDERS)
    # Sources belong to no unit: only the whole province's briefing speaks of them.
    wanted = ("alerts", "reports", "sources") if whole else ("alerts", "reports")
    return ["cameras"] + [s for s in wanted if provider(offered, s) is not None]


def _counts(reply: Reply) -> str:
    return "; ".join(f"{f.indicator_name}: {number(f.value or 0)}" for f in reply.figures) or (
        "không có số liệu"
    )
