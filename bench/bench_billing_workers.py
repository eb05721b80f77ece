"""Billing run on PostgreSQL: in-process (baseline) vs 1 and 2 `faktur worker` processes.

Three organisations get the same N contracts (bench_billing's 3 flat fees and 2 usage components,
E January events each); one run as of 2024-02-01 per organisation: the first in this process
(runs.run_in_process), the second queued for one worker process, the third for two. Workers are
started and registered before the clock starts; the clock stops when the run row says completed.

    .venv/bin/python bench/bench_billing_workers.py                       # N=2,000, E=20
    .venv/bin/python bench/bench_billing_workers.py --contracts 500 --events 10
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from bench_billing import DEFAULT_POSTGRES_URL, NOW, prepare_database, seed
from faktur.billing import queue, runs
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope

AS_OF = date(2024, 2, 1)


def _start_workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "FAKTUR_DATABASE_URL": url}
    command = [sys.executable, "-c", "from faktur.cli import app; app()", "worker"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    reader = create_engine(normalise_url(url))
    deadline = time.monotonic() + 60
    while True:
        with reader.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one() == count:
                break
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not register")
        time.sleep(0.05)
    reader.dispose()
    return workers


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def _measure(url: str, organisation_id: uuid.UUID, chunk_size: int, workers: int) -> tuple[float, int]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        run_id = runs.start_run(session, organisation_id, AS_OF, NOW).id
    processes = _start_workers(url, workers) if workers else []
    try:
        started = time.perf_counter()
        if workers:
            queue.queue_run(factory, url, organisation_id, run_id, NOW, chunk_size)
            while True:
                with session_scope(factory) as session:
                    if runs.get_run(session, organisation_id, run_id).status == "completed":
                        break
                time.sleep(0.02)
        else:
            runs.run_in_process(factory, organisation_id, run_id, NOW, chunk_size=chunk_size)
        elapsed = time.perf_counter() - started
    finally:
        _stop(processes)
    with session_scope(factory) as session:
        run = runs.get_run(session, organisation_id, run_id)
        created, failures = run.invoices_created, run.failures_count
    engine.dispose()
    assert failures == 0, f"{failures} contracts failed"
    return elapsed, created


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("FAKTUR_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--contracts", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=runs.DEFAULT_CHUNK_SIZE)
    args = parser.parse_args()

    url = prepare_database("postgresql", args.postgres_url, Path("."))
    organisations = [seed(url, args.contracts, args.events) for _ in range(3)]
    print(f"PostgreSQL, {args.contracts} contracts x {args.events} events, chunks of {args.chunk_size}")
    print(f"{'executor':<22} {'invoices':>9} {'seconds':>8} {'invoices/s':>11} {'vs in-process':>14}")
    baseline = None
    for label, workers, organisation_id in zip(
        ("in-process", "1 worker process", "2 worker processes"), (0, 1, 2), organisations, strict=True
    ):
        elapsed, created = _measure(url, organisation_id, args.chunk_size, workers)
        rate = created / elapsed
        baseline = baseline or rate
        print(f"{label:<22} {created:>9,} {elapsed:>8.1f} {rate:>11.1f} {rate / baseline:>13.2f}x")


if __name__ == "__main__":
    main()
