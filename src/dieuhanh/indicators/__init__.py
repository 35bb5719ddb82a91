"""Indicator set and report forms: data elements, periods, expressions, indicators (issue 5)."""
