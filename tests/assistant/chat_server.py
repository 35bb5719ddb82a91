"""A language model played by a script (issue 14): an OpenAI-compatible chat completions endpoint
on loopback answering each request with the next scripted reply — a tool call, a final answer,
malformed bytes, or no answer at all (a hang, released when the test ends)."""

from __future__ import annotations

import json
import threading
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


@contextmanager
def chat_server(script: list[Any]) -> Iterator[ChatServer]:
    """``script``: per request in turn, a JSON body (dict), raw bytes, or HANG."""
    released = threading.Event()
    state = ChatServer("", list(script))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append({"path": self.path, "body": json.loads(body),
                                   "authorization": self.headers.get("Authorization")})  # fmt: skip
            answer = state.script.pop(0) if state.script else final("")
            if answer is HANG:
                released.wait(30)  # the client gives up first; the test's end releases it
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
