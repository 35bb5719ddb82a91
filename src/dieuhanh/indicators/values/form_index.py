"""Which forms hold each element and which units report each form, loaded once per import.

A value write checks a claimed form (its elements, its units) and the period type an element is
reported in; the reporting part's locks need the same index, so it is built once and shared.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.form_models import ReportForm


class FormIndex:
    def __init__(self, session: Session) -> None:
        self.forms_by_element: dict[int, list[ReportForm]] = {}
        self.form_units: dict[int, frozenset[int]] = {}
        self.form_elements: dict[int, frozenset[int]] = {}
        for form in session.scalars(select(ReportForm)):
            self.form_units[form.id] = frozenset(u.unit_id for u in form.units)
            self.form_elements[form.id] = frozenset(item.element_id for item in form.elements)
            for item in form.elements:
                self.forms_by_element.setdefault(item.element_id, []).append(form)
        self._types_by_element: dict[int, frozenset[str]] = {}

    def period_types(self, element_id: int) -> frozenset[str]:
        """The period types of the forms holding this element (empty: in no form)."""
        found = self._types_by_element.get(element_id)
        if found is None:
            forms = self.forms_by_element.get(element_id, [])
            found = self._types_by_element[element_id] = frozenset(f.period_type for f in forms)
        return found
