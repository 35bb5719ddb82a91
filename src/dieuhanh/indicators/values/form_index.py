"""Which forms hold each element and which units report each form, loaded once per import.

A value write checks a claimed form (its elements, its units) and the period type an element is
reported in; the reporting part's locks need the same index, so it is built once and shared.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from dieuhanh.indicators.catalog.form_models import ReportForm, ReportFormElement, ReportFormUnit


class FormIndex:
    def __init__(self, session: Session) -> None:
        # The forms alone, their elements and units as pairs of ids: loading the forms' own
        # relationships (each element with its data element, each unit row) cost 20 ms per
        # save with the demo's forms, and a connector run saves once per page.
        forms = {
            form.id: form
            for form in session.scalars(
                select(ReportForm).options(
                    lazyload(ReportForm.elements), lazyload(ReportForm.units)
                )
            )
        }
        units: dict[int, set[int]] = {form_id: set() for form_id in forms}
        for form_id, unit_id in session.execute(
            select(ReportFormUnit.form_id, ReportFormUnit.unit_id)
        ):
            units[form_id].add(unit_id)
        elements: dict[int, list[int]] = {form_id: [] for form_id in forms}
        for form_id, element_id in session.execute(
            select(ReportFormElement.form_id, ReportFormElement.element_id).order_by(
                ReportFormElement.form_id,
                ReportFormElement.sort_order,
                ReportFormElement.element_id,
            )
        ):
            elements[form_id].append(element_id)
        self.form_units: dict[int, frozenset[int]] = {
            form_id: frozenset(found) for form_id, found in units.items()
        }
        self.form_elements: dict[int, frozenset[int]] = {
            form_id: frozenset(found) for form_id, found in elements.items()
        }
        self.forms_by_element: dict[int, list[ReportForm]] = {}
        for form_id, form in forms.items():
            for element_id in elements[form_id]:
                self.forms_by_element.setdefault(element_id, []).append(form)
        self._types_by_element: dict[int, frozenset[str]] = {}

    def period_types(self, element_id: int) -> frozenset[str]:
        """The period types of the forms holding this element (empty: in no form)."""
        found = self._types_by_element.get(element_id)
        if found is None:
            forms = self.forms_by_element.get(element_id, [])
            found = self._types_by_element[element_id] = frozenset(f.period_type for f in forms)
        return found
