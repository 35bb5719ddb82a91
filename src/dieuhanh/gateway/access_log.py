"""Stream tokens kept out of the server's logs.

A browser's stream URLs carry their token in the query (``?token=…``): WebSocket and HLS
players cannot send headers. Uvicorn logs each request's path with its query — HTTP requests on
``uvicorn.access``, WebSocket handshakes on ``uvicorn.error`` — so tokens would sit in log files
that others read (issue #10). The filter rewrites a record before any handler formats it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")
_TOKEN = re.compile(r"([?&](?:token|access_token)=)[^&#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(lambda match: match[1] + REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_stream_tokens() -> None:
    """Install the filter on uvicorn's loggers, once. A logger's filters survive uvicorn's
    logging set-up (``dictConfig`` replaces handlers, not filters)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
