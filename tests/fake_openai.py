"""A fake OpenAI-compatible server on loopback, in the test process: the one every test of the
openai engine shares (resume, secrets, retries, interrupts). A test gives it a `reply` function
that decides each POST's answer from the request (body and headers), so answers depend on the
prompt alone."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]  # status, body[, headers]
Reply = Callable[[dict[str, Any], dict[str, str]], Answer]  # (request body, headers)


def choice(text: str, prompt_tokens: int = 3, completion_tokens: int = 0) -> Answer:
    """A 200 chat completion with one choice."""
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    item = {"index": 0, "message": {"content": text}, "finish_reason": "stop"}
    return 200, {"choices": [item], "usage": usage}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    return status, {"error": {"message": message}}, headers or {}


def last_user_turn(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"] if "messages" in body else body["prompt"]


@dataclass
class FakeOpenAI:
    reply: Reply
    model: str = "fake-model"
    delay: float = 0.0  # seconds each POST takes: what a slow model looks like
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every POST, in order
    auth: list[str] = field(default_factory=list)  # the Authorization header of every request
    times: list[float] = field(default_factory=list)  # when each POST arrived

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.auth.append(self.headers.get("Authorization", ""))
                self._send((200, {"data": [{"id": fake.model}]}))

            def do_POST(self) -> None:  # noqa: N802
                fake.auth.append(self.headers.get("Authorization", ""))
                fake.times.append(time.monotonic())
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.bodies.append(body)
                if fake.delay:
                    time.sleep(fake.delay)
                self._send(fake.reply(body, dict(self.headers)))

            def _send(self, answer: Answer) -> None:
                status, payload, *rest = answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (rest[0] if rest else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # the client may have been killed mid-request: some tests are about that
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def prompts(self) -> list[str]:
        return [last_user_turn(body) for body in self.bodies]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
