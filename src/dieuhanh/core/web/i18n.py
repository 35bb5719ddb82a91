"""The UI's two languages. Vietnamese is the default; every key exists in both catalogs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")


@cache
def catalog(language: str) -> dict[str, str]:
    text = (
        resources.files("dieuhanh.core.web").joinpath(f"locales/{language}.json").read_text("utf-8")
    )
    messages: dict[str, str] = json.loads(text)
    return messages


@dataclass(frozen=True)
class Translator:
    language: str

    def __call__(self, key: str, **values: Any) -> str:
        # A key made at run time (e.g. "entity." + a table name) may have no message yet: its
        # last part reads better than the whole key.
        text = catalog(self.language).get(key) or catalog("vi").get(key) or key.rsplit(".", 1)[-1]
        return text.format(**values) if values else text

    def client_catalog(self) -> dict[str, str]:
        """The messages the browser's scripts need (keys starting with "js.")."""
        return {k: v for k, v in catalog(self.language).items() if k.startswith("js.")}
