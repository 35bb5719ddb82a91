"""Reporting: forms, deadlines and entry windows, locks, completeness, validation, approval and
reminders. Depends on the catalogue and values; registers :mod:`.hooks` with the values part."""
