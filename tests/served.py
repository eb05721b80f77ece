"""`faktur serve` as a real process on a loopback port, for fault tests (stopped writers, full disks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import httpx

FAKTUR = Path(sys.executable).with_name("faktur")

# Holds the SQLite write lock of the database given as argv[1] (faktur's queue and SQLite's own)
# in an open transaction until killed.
HOLD_WRITE_LOCK = """
import sys, time
from sqlalchemy import text
from faktur.db import make_engine, make_session_factory
session = make_session_factory(make_engine(sys.argv[1]))()
session.execute(text("UPDATE organisations SET legal_name = legal_name"))
print("holding", flush=True)
time.sleep(600)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(database_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKTUR_")}
    env |= {"FAKTUR_DATABASE_URL": database_url, "FAKTUR_CREATE_DEMO_ORGANISATION": "false", **settings}
    return env


@contextmanager
def served(
    database_url: str,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Start `faktur serve`, wait until /health answers, yield its base URL; stop it after."""
    with served_process(database_url, workers=workers, settings=settings, preexec_fn=preexec_fn) as (base, _):
        yield base


@contextmanager
def served_process(
    database_url: str,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[tuple[str, int]]:
    """`served`, yielding the base URL and the server's process id (with one worker, the process
    that answers requests: a test may change its limits, e.g. `resource.prlimit`)."""
    port = free_port()
    # The server's log goes to a file, not a pipe: a pipe nobody reads fills up (64 KiB of
    # tracebacks of 503s, say) and the server's next log line blocks the thread that writes it.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(FAKTUR), "serve", "--port", str(port), "--workers", str(workers)],
            env=serve_env(database_url, **(settings or {})),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its workers are in its process group, stopped with it
            preexec_fn=preexec_fn,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180  # a loaded CI machine imports slowly
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"faktur serve exited: {_tail(log)}")
                try:
                    if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    _signal_group(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                    raise RuntimeError(f"faktur serve did not answer /health: {_tail(log)}")
                time.sleep(0.1)
            yield base, process.pid
        finally:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()


def _tail(log: IO[bytes], size: int = 3000) -> str:
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - size))
    return log.read().decode(errors="replace")


def _signal_group(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError):  # the server and its workers are gone already
        os.killpg(pid, signum)


@contextmanager
def write_lock_held_by_stopped_process(database_url: str) -> Iterator[int]:
    """Another faktur process takes the write lock and is stopped (SIGSTOP) while holding it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, database_url], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"holding"
        os.kill(holder.pid, signal.SIGSTOP)
        yield holder.pid
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()
        holder.stdout.close()
