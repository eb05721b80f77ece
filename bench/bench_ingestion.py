"""Usage ingestion alone: events per second through POST /v1/events/batch, this checkout beside
a baseline git revision served by the same machine in the same run.

The measurement is bench_billing's ingestion step (uvicorn, 1,000 events per request, C client
threads, client and server CPU measured); the baseline's src/ is exported with `git archive`
and served through PYTHONPATH against its own database, so both see the same data and load.
Runs alternate (baseline, current, baseline, current, ...) so a burst of load on the shared
machine hits both; the best of the repeats is reported for each.

    .venv/bin/python bench/bench_ingestion.py --backend both --baseline-ref <rev> --repeats 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from bench_billing import DEFAULT_POSTGRES_URL, INGEST_TARGET, ingestion
from faktur.db import normalise_url
from faktur.migrations import upgrade_to_head

# Its own database: bench_billing's is dropped and recreated by its runs.
BENCH_DATABASE = "faktur_bench_ingestion"
ROOT = Path(__file__).resolve().parent.parent


def prepare_database(backend: str, postgres_url: str, path: Path, label: str) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{path / f'{label}.sqlite3'}"
    else:
        name = f"{BENCH_DATABASE}_{label}"
        admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(normalise_url(postgres_url)).set(database=name).render_as_string(False)
    upgrade_to_head(url)
    return url


def export_source(ref: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--baseline-ref", help="git revision to compare with (default: none)")
    parser.add_argument("--events", type=int, default=100_000, help="events per measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sources: dict[str, Path | None] = {"current": None}
        if args.baseline_ref:
            sources = {"baseline": export_source(args.baseline_ref, workdir / "baseline"), **sources}
        for backend in backends:
            workers = 1 if backend == "sqlite" else args.workers
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label in sources}
            urls = {label: prepare_database(backend, args.postgres_url, workdir, label) for label in sources}
            for repeat in range(args.repeats):
                for label, source in sources.items():
                    run = ingestion(
                        urls[label],
                        workdir,
                        args.events,
                        args.clients,
                        workers,
                        source=source,
                        name=f"Ingest {label} {repeat}",
                    )
                    print(json.dumps({"backend": backend, "code": label, **run}), flush=True)
                    runs[label].append(run)
            result: dict[str, Any] = {"backend": backend}
            for label, measured in runs.items():
                result[label] = max(measured, key=lambda run: run["events_per_s"])
            if "baseline" in result:
                result["speedup"] = round(
                    result["current"]["events_per_s"] / result["baseline"]["events_per_s"], 2
                )
            if backend == "postgresql":
                result["target_met"] = result["current"]["events_per_s"] >= INGEST_TARGET
            results.append(result)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
