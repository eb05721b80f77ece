"""A real HTTP receiver on loopback (http.server), whose behaviour the test switches:
answer 2xx, answer 500, hang past the sender's timeout, or be down (connection refused)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    """http.server with a listen backlog a webhook sender needs: the default (5) drops the SYNs of
    the sender's parallel connections beyond it, and each dropped one waits a second to retry."""

    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # float-ok: monotonic seconds

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int
    mode: str = "ok"  # ok, error, hang
    hang_seconds: float = 3.0  # float-ok: seconds
    received: list[Received] = field(default_factory=list)
    # Every request that reached the server, whatever it answered.
    seen: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                item = Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with receiver.lock:
                    receiver.seen.append(item)
                    mode = receiver.mode
                if mode == "hang":
                    time.sleep(receiver.hang_seconds)
                    return
                if mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"receiver broken")
                    return
                with receiver.lock:
                    receiver.received.append(item)
                self.send_response(204 if mode == "ok" else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:  # float-ok: seconds
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"{len(self.received)} of {count} webhooks arrived within {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
