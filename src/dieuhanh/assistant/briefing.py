"""The briefing in words ("Tóm tắt tình hình tuần này", issue 14 part 4): what moved most among
the indicators in the last month reported, the reports not submitted, cameras down, alerts open
and citizen reports overdue. Every sentence is the answer of one query, run like any question's
(so the same scope applies), and every query is listed with the answer."""

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


def brief(helper: Helper, query: Query) -> Reply:
    from dieuhanh.assistant.service import Reply

    home = query.units[0] if query.units else helper.vocabulary.province.code
    month = latest_month(helper.today).code
    parts: list[Reply] = []
    moves = []
    for code, measure in sorted(helper.vocabulary.measures.items()):
        if measure.is_element or measure.unit_of_measure != "%" or "luy ke" in fold(measure.name):
            continue  # a running total (lũy kế) grows every month: its move is not news
        reply = helper.run(Query(Operation.COMPARE_PREVIOUS, code, units=(home,), periods=(month,)))
        if reply.derived:
            moves.append((abs(reply.derived[0]), code, reply))
    moves.sort(key=lambda item: (-item[0], item[1]))
    parts.extend(reply for *_, reply in moves[:MOVERS])
    lines = [r.answer for r in parts]
    whole = helper.principal.read_scope.is_everything
    reporting = Query(
        Operation.REPORTING, "COMMUNE_MONTHLY", units=() if whole else (home,),
        level="commune" if whole else None, periods=(month,),
    )  # fmt: skip
    if "COMMUNE_MONTHLY" in helper.vocabulary.forms:
        reply = helper.run(reporting)
        parts.append(reply)
        lines.append(reply.answer)
    subjects = ["cameras"] + [
        s for s in ("alerts", "reports", "sources")
        if provider(helper.runtime.extensions.of(STATUS_PROVIDERS), s) is not None
    ]  # fmt: skip
    for subject in subjects:
        if subject == "sources" and not whole:
            continue
        reply = helper.run(Query(Operation.STATUS, units=(home,), subject=subject))
        parts.append(reply)
        if reply.figures:
            lines.append(_counts(reply) + ".")
    head = (
        f"Tóm tắt tình hình đến ngày {helper.today:%d/%m/%Y} "
        "(số liệu chỉ số tháng gần nhất đã báo cáo):"
    )
    return Reply(
        " ".join([head, *lines]),
        figures=[f for r in parts for f in r.figures],
        queries=[q for r in parts for q in r.queries],
        links=[link for r in parts for link in r.links][:12],
        # The briefing's date is stated with it (day, month, year), not a figure.
        derived=[d for r in parts for d in r.derived]
        + [float(helper.today.day), float(helper.today.month), float(helper.today.year)],
        items=[i for r in parts for i in r.items],
        context=None,
    )


def _counts(reply: Reply) -> str:
    return "; ".join(f"{f.indicator_name}: {number(f.value or 0)}" for f in reply.figures) or (
        "không có số liệu"
    )
