"""alerts: the shipped rule citizen_report_overdue also clears when the report escalates, so the
escalated (major) alert replaces the overdue (minor) one — one alert per late report

Only where the rule is still as shipped: one an administrator changed (another condition, title,
severity, units, switched off…) is theirs and left alone. Both definitions are written out here,
not read from alerts/rules.yaml, which moves on after this revision.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CODE = "citizen_report_overdue"
BEFORE: dict[str, Any] = {
    "code": CODE,
    "name": "Phản ánh quá hạn xử lý",
    "topic": ["citizen_report.overdue", "citizen_report.resolved"],
    "when": "topic == 'citizen_report.overdue'",
    "clear": "topic == 'citizen_report.resolved'",
    "subject": "report:{code}",
    "title": "Phản ánh {code} ({category_name}) quá hạn tại {unit_name}",
    "severity": "minor",
}
AFTER: dict[str, Any] = {
    **BEFORE,
    "topic": ["citizen_report.overdue", "citizen_report.escalated", "citizen_report.resolved"],
    "clear": "topic in ('citizen_report.escalated', 'citizen_report.resolved')",
}
# What the rules page and API spell out when they store a rule (RuleSpec's defaults at this
# revision): a rule saved there unchanged still counts as the shipped one.
_SPELLED_OUT: dict[str, Any] = {
    "times": 1, "notify": [], "auto_resolve": True, "flap_minutes": 30, "enabled": True,
}  # fmt: skip


def upgrade() -> None:
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    _replace(AFTER, BEFORE)


def _replace(shipped: dict[str, Any], by: dict[str, Any]) -> None:
    rules = sa.table("alert_rules", sa.column("code"), sa.column("name"), sa.column("severity"),
                     sa.column("enabled"), sa.column("definition", JSON),
                     sa.column("updated_at"))  # fmt: skip
    bind = op.get_bind()
    row = bind.execute(
        sa.select(rules.c.name, rules.c.severity, rules.c.enabled, rules.c.definition).where(
            rules.c.code == CODE
        )
    ).first()
    if row is None or not _as_shipped(row, shipped):
        return  # deleted, or changed by an administrator: theirs
    bind.execute(
        rules.update()
        .where(rules.c.code == CODE)
        .values(definition=by, updated_at=datetime.now(UTC))
    )


def _as_shipped(row: Any, shipped: dict[str, Any]) -> bool:
    definition = {
        key: value
        for key, value in (row.definition or {}).items()
        if key not in _SPELLED_OUT or _SPELLED_OUT[key] != value
    }
    return (row.name, row.severity, row.enabled) == (
        shipped["name"],
        shipped["severity"],
        True,
    ) and definition == shipped
