"""Stored values: the one write path (``save``), the value store, DHIS2 dataValueSets import and
export, and reading values rolled up the unit tree (``plan``, ``rollup``, ``cells``). Depends only
on the catalogue; asks the reporting part through :mod:`.hooks`."""
