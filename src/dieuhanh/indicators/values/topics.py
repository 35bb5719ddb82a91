"""The topic the value part publishes: which units and periods a save changed (one event per
save, whatever its size), so that what depends on values — indicator bands and targets — is
worked out after the commit, by a subscriber, never inside a data entry or an import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.core.events import Topic

VALUES_CHANGED = "data_values.changed"
MAX_CELLS = 500  # unit × period pairs listed in one event; more: ``truncated``


class ChangedCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str = Field(description="The unit's code.")
    period: str = Field(description="The period's code, e.g. 202612.")
    elements: list[str] = Field(description="The data elements whose values changed there.")


class ValuesChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="form, import, connector, api…")
    changed: int = Field(description="How many values were created, updated or deleted.")
    cells: list[ChangedCell]
    truncated: bool = Field(description=f"More than {MAX_CELLS} unit × period pairs changed.")


TOPICS = (
    Topic(VALUES_CHANGED, ValuesChanged, "Data values were saved (a form, an import, a "
          "connector): the units and periods that changed, for what is computed from them."),
)  # fmt: skip
