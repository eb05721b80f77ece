"""faktur served by a real uvicorn process, for tests that measure the process or fuzz it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServerProcess:
    base_url: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def uvicorn_process(database_url: str, workdir: Path, **settings: str) -> Iterator[ServerProcess]:
    """`uvicorn --factory faktur.app:create_app` on a free loopback port, with FAKTUR_* settings."""
    port = free_port()
    env = {**os.environ, "FAKTUR_DATABASE_URL": database_url, "FAKTUR_CREATE_DEMO_ORGANISATION": "false"}
    env.update({f"FAKTUR_{name.upper()}": value for name, value in settings.items()})
    command = [sys.executable, "-m", "uvicorn", "--factory", "faktur.app:create_app", "--port", str(port)]
    log = (workdir / "uvicorn.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.1)
        yield ServerProcess(base_url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # uvicorn waits for background work (an in-process billing run) before it exits.
            process.kill()
            process.wait(timeout=30)
        log.close()
