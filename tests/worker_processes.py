"""`faktur` processes the tests start (workers, CLI commands) and a wait for a condition: shared by
the tests of billing workers and webhook workers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager


def faktur_command(*args: str) -> list[str]:
    """The command line of `faktur ARGS` from this interpreter (so this code)."""
    return [sys.executable, "-c", "from faktur.cli import app; app()", *args]


@contextmanager
def worker_processes(
    env: Mapping[str, str],
    *args: str,
    stop_timeout: float = 30.0,  # float-ok: seconds
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Yield a function that starts one `faktur worker ARGS` process with `env`; at the end every
    one still alive gets SIGTERM, and SIGKILL if it has not stopped within `stop_timeout`."""
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            faktur_command("worker", *args),
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(
    condition: Callable[[], object],
    timeout: float = 45.0,  # float-ok: seconds
    what: str = "the condition",
) -> None:
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
