"""A language model played by a script (issue 14): an OpenAI-compatible chat completions endpoint
on loopback answering each request with the next scripted reply — a tool call, a final answer,
malformed bytes, or no answer at all (a hang, until the client gives up or the test ends). It
counts the connections its client has not closed yet."""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = object()


def tool_call(arguments: dict[str, Any] | str, call_id: str = "call_1") -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    message = {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "run_query", "arguments": text}}
    ]}  # fmt: skip
    return {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


def final(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


@dataclass
class ChatServer:
    url: str
    script: list[Any]
    requests: list[dict[str, Any]] = field(default_factory=list)
    open_connections: int = 0

    def all_closed(self, within: float = 2.0) -> bool:
        """Whether the client has closed every connection it opened (the handler has to read
        the end of the stream first, hence the short wait)."""
        deadline = time.monotonic() + within
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open_connections == 0


@contextmanager
def chat_server(script: list[Any]) -> Iterator[ChatServer]:
    """``script``: per request in turn, a JSON body (dict), raw bytes, or HANG."""
    released = threading.Event()
    counting = threading.Lock()
    state = ChatServer("", list(script))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            # Serves requests until the client closes the connection.
            with counting:
                state.open_connections += 1
            try:
                super().handle()
            finally:
                with counting:
                    state.open_connections -= 1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append({"path": self.path, "body": json.loads(body),
                                   "authorization": self.headers.get("Authorization")})  # fmt: skip
            answer = state.script.pop(0) if state.script else final("")
            if answer is HANG:
                # No answer: the client gives up first and closes (its end is readable then);
                # the test's end releases a client that does not.
                while not released.is_set():
                    if select.select([self.connection], [], [], 0.05)[0]:
                        break
                return
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
