"""Citizen field reports and the 1022 hotline (issue #12)."""
