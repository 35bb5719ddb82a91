"""The operations view: the wall's main screen (issue #13, item 9)."""
