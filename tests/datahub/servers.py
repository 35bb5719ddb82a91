"""A small JSON API on loopback whose answers a test writes as a function of the request."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (path, query, headers) → (status, JSON body, extra headers)
Answer = tuple[int, Any, dict[str, str]]
Route = Callable[[str, dict[str, str], dict[str, str]], Answer]


@contextmanager
def json_api(route: Route, open_connections: set[int] | None = None) -> Iterator[str]:
    """``open_connections``, if given, holds the client connections the server has open (each
    kept alive until the client closes it)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            if open_connections is not None:
                open_connections.add(id(self))

        def finish(self) -> None:
            if open_connections is not None:
                open_connections.discard(id(self))
            super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            status, body, headers = route(parts.path, query, dict(self.headers))
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
