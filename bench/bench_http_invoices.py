"""HTTP benchmark: create + finalize a 5-line invoice, beside GET /health of the same server.

The server is a real uvicorn process on a free loopback port with --workers worker processes
(on SQLite their writes queue on the database's writer lock file). N client threads, each with
its own httpx.Client, drive GET /health, then POST /v1/invoices with five lines at two VAT
rates and "finalize": true (every request a new invoice; --idempotency-keys sends a new
Idempotency-Key with each). The two endpoints take turns --rounds times, each round a share of
--requests of each, so a drift of the machine's speed (tens of percent within minutes on a shared
host) falls on both alike. For each endpoint over all rounds: throughput (requests over the
time its rounds took), p50 and p99; then the ratios against the targets (p99 of create+finalize
<= 5x the p99 of /health, throughput >= 1/8 of it). At the end the invoice numbers in the
database are checked to be gapless 1..N and to match the responses.

    .venv/bin/python bench/bench_http_invoices.py --backend both --clients 8 --requests 2000

--profile DIR runs py-spy on the server during the create+finalize phase (in one round) and prints the top
functions (wall time of request threads, so lock waits show; --profile-gil for CPU only);
profiling slows the server, so take figures from a run without it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import upgrade_to_head
from faktur.models import Invoice
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "faktur_bench"
P99_TARGET = 5.0  # create+finalize p99 at most 5x the /health p99
THROUGHPUT_TARGET = 1 / 8  # create+finalize throughput at least 1/8 of /health's


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Phase:
    name: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    statuses: dict[str, int]
    # CPU used during the phase, in cores (1.0 = one core busy all the time).
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    postgres_cpu: float = 0.0


@dataclass
class BackendResult:
    backend: str
    workers: int
    clients: int
    health: Phase
    invoices: Phase
    p99_ratio: float
    throughput_ratio: float
    p99_target_met: bool
    throughput_target_met: bool
    numbering: dict[str, Any] = field(default_factory=dict)
    hotspots: list[str] = field(default_factory=list)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# --------------------------------------------------------------------------------------------
# Load generation


def invoice_body(customer_id: str, i: int) -> dict[str, Any]:
    """Five lines, two VAT rates (19 % and 7 %); quantities vary so every invoice differs."""

    def line(description: str, quantity: str, unit_price: str, percent: str) -> dict[str, Any]:
        return {
            "description": description,
            "quantity": quantity,
            "unit_price": unit_price,
            "tax": {"category": "S", "percent": percent},
        }

    return {
        "customer_id": customer_id,
        "external_reference": f"bench-{i}",
        "lines": [
            line(f"Consulting, job {i}", str(1 + i % 7), "120.00", "19"),
            line("Software licence", "1", "49.90", "19"),
            line("Support hours", f"{(i % 4) + 1}.5", "80.00", "19"),
            line("Handbook", str(1 + i % 3), "12.34", "7"),
            line("Training material", "1", "19.99", "7"),
        ],
        "finalize": True,
    }


# What `drive` returns: wall seconds, latencies of successful requests, statuses, bodies.
Run = tuple[float, list[float], Counter[str], list[bytes]]


def drive(
    base_url: str,
    headers: dict[str, str],
    clients: int,
    total: int,
    max_seconds: float,
    make_request: Any,
    keep_bodies: bool = False,
) -> Run:
    """Run `total` requests from `clients` threads (or stop at max_seconds).

    make_request(client, i) -> httpx.Response. Returns wall seconds, latencies of successful
    requests (seconds), status counts and, when asked, the bodies of successful responses.
    """
    lock = threading.Lock()
    next_index = [0]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter[str]] = [Counter() for _ in range(clients)]
    bodies: list[list[bytes]] = [[] for _ in range(clients)]
    start_barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(slot: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            client.get("/health")  # open the keep-alive connection before the clock starts
            start_barrier.wait()
            while True:
                with lock:
                    i = next_index[0]
                    if i >= total or time.perf_counter() > deadline[0]:
                        return
                    next_index[0] += 1
                t0 = time.perf_counter()
                try:
                    response = make_request(client, i)
                except httpx.HTTPError as exc:
                    statuses[slot][type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - t0
                statuses[slot][str(response.status_code)] += 1
                if response.is_success:
                    latencies[slot].append(elapsed)
                    if keep_bodies:
                        bodies[slot].append(response.content)

    threads = [threading.Thread(target=worker, args=(slot,), daemon=True) for slot in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + max_seconds
    start_barrier.wait()
    t_start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t_start
    merged: Counter[str] = Counter()
    for c in statuses:
        merged.update(c)
    return (
        wall,
        [x for part in latencies for x in part],
        merged,
        [b for part in bodies for b in part],
    )


def describe(run: Run) -> str:
    wall, latencies, _, _ = run
    return f"{len(latencies) / wall:.0f} req/s, p99 {percentile(sorted(latencies), 99) * 1000:.1f} ms"


def summarise(name: str, wall: float, latencies: list[float], statuses: Counter[str]) -> Phase:
    ok = sorted(latencies)
    errors = sum(n for code, n in statuses.items() if not code.startswith("2"))
    return Phase(
        name=name,
        requests=len(ok),
        errors=errors,
        seconds=round(wall, 3),
        rps=round(len(ok) / wall, 1) if wall else 0.0,
        p50_ms=round(percentile(ok, 50) * 1000, 2),
        p99_ms=round(percentile(ok, 99) * 1000, 2),
        mean_ms=round(sum(ok) / len(ok) * 1000, 2) if ok else math.nan,
        max_ms=round(ok[-1] * 1000, 2) if ok else math.nan,
        statuses=dict(statuses),
    )


# --------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc): who uses the two cores, the clients or the server?

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_seconds(match: Any) -> float:
    """utime + stime of every process whose (pgrp, command) satisfies match."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            comm = (stat.parent / "comm").read_text().strip()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if match(int(fields[2]), comm):  # fields[2] is the process group id
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


class CpuMeter:
    def __init__(self, server_pgrp: int) -> None:
        self.server_pgrp = server_pgrp

    def sample(self) -> tuple[float, float, float, float]:
        return (
            time.perf_counter(),
            time.process_time(),
            _proc_cpu_seconds(lambda pgrp, _comm: pgrp == self.server_pgrp),
            _proc_cpu_seconds(lambda _pgrp, comm: comm.startswith("postgres")),
        )


def rounds(total: int, count: int) -> list[tuple[int, int]]:
    """(first index, requests) of each of `count` rounds sharing `total` requests."""
    count = max(1, min(count, total))
    sizes = [total // count + (1 if r < total % count else 0) for r in range(count)]
    return [(sum(sizes[:r]), size) for r, size in enumerate(sizes)]


@dataclass
class Tally:
    """One endpoint's requests summed over the rounds: time, latencies, statuses, CPU."""

    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)
    metered: float = 0.0  # seconds the CPU meter ran
    cpu: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # client, server, postgres

    def add(self, run: Run, before: tuple[float, ...], after: tuple[float, ...]) -> None:
        """Add a `drive` result, metered from `before` to `after` (CpuMeter samples)."""
        wall, latencies, statuses, bodies = run
        self.wall += wall
        self.latencies += latencies
        self.statuses.update(statuses)
        self.bodies += bodies
        self.metered += after[0] - before[0]
        for i in range(3):
            self.cpu[i] += after[i + 1] - before[i + 1]

    def phase(self, name: str) -> Phase:
        phase = summarise(name, self.wall, self.latencies, self.statuses)
        if self.metered:
            phase.client_cpu, phase.server_cpu, phase.postgres_cpu = (
                round(seconds / self.metered, 2) for seconds in self.cpu
            )
        return phase


# --------------------------------------------------------------------------------------------
# Database and server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(backend: str, postgres_url: str, workdir: Path, name: str = BENCH_DATABASE) -> str:
    """A fresh, migrated database for one run (on PostgreSQL the database `name`); returns its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(normalise_url(postgres_url)).set(database=name)
        url = url.render_as_string(hide_password=False)
    upgrade_to_head(url)
    return url


def create_tenant(url: str) -> tuple[uuid.UUID, str]:
    engine = make_engine(url)
    now = datetime.now(UTC)
    data = OrganisationCreate(
        legal_name="Bench Seller GmbH",
        country="DE",
        vat_id="DE136695976",
        address_line1="Hauptstraße 5",
        city="Berlin",
        postal_code="10115",
        default_currency="EUR",
    )
    with session_scope(make_session_factory(engine)) as session:
        organisation = organisations.create_organisation(session, data, now)
        key = organisations.create_api_key(session, organisation.id, "bench", now)
    engine.dispose()
    return organisation.id, key.plaintext


def analyse(url: str) -> None:
    """Give PostgreSQL statistics of the warmed-up tables, as autovacuum does within a minute of
    writes on a running server. A fresh database has none, and a plan made then stays in the
    server's pooled connections: the foreign-key checks of an invoice's lines, tax groups and
    status events (`SELECT 1 FROM invoices WHERE organisation_id = $1 AND id = $2 FOR KEY SHARE`)
    were planned on an index that bounds only the organisation, so each walked every invoice of
    it (auto_explain, docs/benchmarks.md). ANALYZE invalidates those plans."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


class Server:
    """uvicorn serving faktur.app:create_app in a child process on a loopback port."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "uvicorn", "faktur.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, "FAKTUR_DATABASE_URL": url, "FAKTUR_CREATE_DEMO_ORGANISATION": "false"}
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            self.command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer /health within 60 s; see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own child's group only
                self.process.wait()
        self.log.close()


class Profiler:
    """py-spy sampling the server (all its worker processes) until stopped."""

    def __init__(self, pid: int, out: Path, gil_only: bool) -> None:
        self.out = out
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.process = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "200",
             "--output", str(out), *(["--gil"] if gil_only else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1.0)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def summarise_profile(path: Path, top: int = 25) -> list[str]:
    """Top functions by inclusive share of the samples taken in request handling."""
    if not path.exists():
        return [f"no profile written to {path}"]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for raw in path.read_text().splitlines():
        stack, _, count = raw.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        # Only stacks in a request: skip idle worker threads and the event loop's waiting.
        if "create_invoice" not in stack and "run_endpoint_function" not in stack:
            continue
        frames = [re.sub(r" \(.*/(site-packages|src)/", " (", f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return ["no request samples in the profile"]
    lines = [f"{total} samples in request handling; inclusive share (own share):"]
    for frame, n in inclusive.most_common(top * 3):
        if "faktur" in frame or own[frame] / total > 0.02 or n / total > 0.05:
            lines.append(f"{100 * n / total:5.1f}% ({100 * own[frame] / total:4.1f}%)  {frame}")
        if len(lines) > top:
            break
    lines.append("top own time:")
    for frame, n in own.most_common(10):
        lines.append(f"{100 * n / total:5.1f}%  {frame}")
    return lines


# --------------------------------------------------------------------------------------------
# Checks


def check_numbering(url: str, organisation_id: uuid.UUID, response_bodies: list[bytes], created: int) -> dict:
    """Numbers in the database are 1..N without gap or repeat, and match the 201 responses."""
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        rows = conn.execute(
            select(Invoice.number, Invoice.status).where(Invoice.organisation_id == organisation_id)
        ).all()
    engine.dispose()
    numbers = [r.number for r in rows]
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n)
    from_responses = {json.loads(b)["number"] for b in response_bodies}
    statuses = Counter(r.status for r in rows)
    result = {
        "invoices_in_db": len(rows),
        "successful_creates": created,
        "statuses": dict(statuses),
        "min": seqs[0] if seqs else None,
        "max": seqs[-1] if seqs else None,
        "gapless": seqs == list(range(1, len(seqs) + 1)),
        "unique": len(set(numbers)) == len(numbers),
        "responses_match_db": from_responses <= set(numbers),
    }
    result["ok"] = bool(
        result["gapless"]
        and result["unique"]
        and result["responses_match_db"]
        and len(rows) == created
        and statuses.get("open", 0) == created
    )
    return result


def check_all_numbering(
    url: str, tenants: list[tuple[uuid.UUID, str]], response_bodies: list[bytes], created: int
) -> dict:
    """check_numbering per organisation; the probes add one invoice to each."""
    per_org = [check_numbering(url, org_id, [], 0) for org_id, _ in tenants]
    in_db = sum(r["invoices_in_db"] for r in per_org)
    numbers = {json.loads(b)["number"] for b in response_bodies}
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        stored = set(conn.execute(select(Invoice.number).where(Invoice.number.is_not(None))).scalars())
    engine.dispose()
    result = {
        "organisations": len(tenants),
        "invoices_in_db": in_db,
        "successful_creates": created + len(tenants),
        "gapless": all(r["gapless"] for r in per_org),
        "unique": all(r["unique"] for r in per_org),
        "min": min((r["min"] for r in per_org if r["min"]), default=None),
        "max": max((r["max"] for r in per_org if r["max"]), default=None),
        "statuses": {"open": sum(r["statuses"].get("open", 0) for r in per_org)},
    }
    result["ok"] = bool(
        result["gapless"]
        and result["unique"]
        and in_db == created + len(tenants)
        and result["statuses"]["open"] == in_db
        and numbers <= stored
    )
    result["responses_match_db"] = numbers <= stored
    return result


# --------------------------------------------------------------------------------------------
# One backend


def run_backend(backend: str, args: argparse.Namespace) -> BackendResult:
    workers = args.workers
    workdir = Path(tempfile.mkdtemp(prefix=f"faktur-bench-{backend}-"))
    url = prepare_database(backend, args.postgres_url, workdir)
    # Each organisation has its own gapless counter: with one, every finalization queues on
    # its counter row until commit; --organisations spreads the clients over several tenants.
    tenants = [create_tenant(url) for _ in range(args.organisations)]
    headers = {"Authorization": f"Bearer {tenants[0][1]}"}
    server = Server(url, workers, workdir / "server.log")
    profiler: Profiler | None = None
    try:
        customers: list[tuple[dict[str, str], str]] = []
        for _, api_key in tenants:
            tenant_headers = {"Authorization": f"Bearer {api_key}"}
            with httpx.Client(base_url=server.base_url, headers=tenant_headers, timeout=30) as client:
                customer = client.post(
                    "/v1/customers",
                    json={
                        "name": "Kunde AG", "email": "ap@kunde.example", "address_line1": "Ringstraße 9",
                        "city": "München", "postal_code": "80331", "country": "DE",
                        "vat_id": "DE123456788", "locale": "de",
                    },
                )  # fmt: skip
                customer.raise_for_status()
                customer_id = customer.json()["id"]
                # Sanity check of the body before any timing.
                probe = client.post("/v1/invoices", json=invoice_body(customer_id, -1))
                if probe.status_code != 201:
                    raise RuntimeError(f"create+finalize failed: {probe.status_code} {probe.text}")
                probe_number = probe.json()["number"]
            customers.append((tenant_headers, customer_id))
        log(
            f"[{backend}] server {server.base_url}, {workers} worker(s), {len(tenants)} organisation(s), "
            f"{'an Idempotency-Key' if args.idempotency_keys else 'no Idempotency-Key'} per invoice; "
            f"first invoice {probe_number}"
        )

        def get_health(client: httpx.Client, i: int) -> httpx.Response:
            return client.get("/health")

        def post_invoice(client: httpx.Client, i: int) -> httpx.Response:
            tenant_headers, customer_id = customers[i % len(customers)]
            if args.idempotency_keys:
                tenant_headers = {**tenant_headers, "Idempotency-Key": str(uuid.uuid4())}
            return client.post("/v1/invoices", json=invoice_body(customer_id, i), headers=tenant_headers)

        # Warm-up: every worker process and pool connection, both endpoints.
        drive(server.base_url, headers, args.clients, args.warmup, args.max_seconds, get_health)
        _, warm_ok, warm_statuses, warm_bodies = drive(
            server.base_url, headers, args.clients, args.warmup, args.max_seconds, post_invoice,
            keep_bodies=True,
        )  # fmt: skip
        log(f"[{backend}] warm-up done: {dict(warm_statuses)}")
        analyse(url)

        # The two endpoints take turns, --rounds times: the machine's speed drifts by tens of
        # percent within minutes, and each endpoint then sees the same drift (docs/benchmarks.md).
        meter = CpuMeter(server.process.pid)
        health_tally, invoice_tally = Tally(), Tally()
        offset = 1_000_000  # distinct request bodies from the warm-up's
        for start, count in rounds(args.requests, 1 if args.profile else args.rounds):
            before = meter.sample()
            health_run = drive(server.base_url, headers, args.clients, count, args.max_seconds, get_health)
            health_tally.add(health_run, before, meter.sample())

            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profiler = Profiler(server.process.pid, args.profile / f"{backend}.raw.txt", args.profile_gil)
            first = offset + start
            before = meter.sample()
            run = drive(
                server.base_url, headers, args.clients, count, args.max_seconds,
                lambda client, i, first=first: post_invoice(client, first + i), keep_bodies=True,
            )  # fmt: skip
            invoice_tally.add(run, before, meter.sample())
            if profiler:
                profiler.stop()
            log(f"[{backend}] round: /health {describe(health_run)}; invoices {describe(run)}")
        health = health_tally.phase("GET /health")
        invoices = invoice_tally.phase("POST /v1/invoices (5 lines, finalize)")
        bodies = invoice_tally.bodies
        for phase in (health, invoices):
            log(
                f"[{backend}] {phase.name}: {phase.rps} req/s, p50 {phase.p50_ms} ms, "
                f"p99 {phase.p99_ms} ms, CPU cores: client {phase.client_cpu}, "
                f"server {phase.server_cpu}, pg {phase.postgres_cpu}"
            )
    finally:
        server.stop()

    numbering = check_all_numbering(url, tenants, [*warm_bodies, *bodies], len(warm_ok) + invoices.requests)
    p99_ratio = invoices.p99_ms / health.p99_ms
    throughput_ratio = invoices.rps / health.rps
    result = BackendResult(
        backend=backend,
        workers=workers,
        clients=args.clients,
        health=health,
        invoices=invoices,
        p99_ratio=round(p99_ratio, 2),
        throughput_ratio=round(throughput_ratio, 3),
        p99_target_met=p99_ratio <= P99_TARGET,
        throughput_target_met=throughput_ratio >= THROUGHPUT_TARGET,
        numbering=numbering,
    )
    if args.profile:
        result.hotspots = summarise_profile(args.profile / f"{backend}.raw.txt")
    if backend == "postgresql" and not args.keep_database:
        admin = create_engine(normalise_url(args.postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return result


# --------------------------------------------------------------------------------------------
# Report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def markdown(results: list[BackendResult]) -> str:
    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    out = [
        "| backend | workers | clients | endpoint | requests | errors | req/s | p50 ms | p99 ms "
        "| CPU cores: client / server / postgres |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for phase in (r.health, r.invoices):
            out.append(
                f"| {r.backend} | {r.workers} | {r.clients} | {phase.name} | {phase.requests} | "
                f"{phase.errors} | {phase.rps:.0f} | {phase.p50_ms:.1f} | {phase.p99_ms:.1f} | "
                f"{phase.client_cpu:.2f} / {phase.server_cpu:.2f} / {phase.postgres_cpu:.2f} |"
            )
    out += [
        "",
        "| backend | p99 ratio (target <= 5) | met | throughput ratio (target >= 0.125) | met "
        "| numbers gapless 1..N |",
        "|---|---:|---|---:|---|---|",
    ]
    for r in results:
        n = r.numbering
        check = f"{'yes' if n['ok'] else '**NO**'} (1..{n['max']}, {n['invoices_in_db']} invoices)"
        out.append(
            f"| {r.backend} | {r.p99_ratio:.2f} | {yes(r.p99_target_met)} | {r.throughput_ratio:.3f} | "
            f"{yes(r.throughput_target_met)} | {check} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument(
        "--organisations", type=int, default=1, help="spread the invoice requests over this many tenants"
    )
    parser.add_argument(
        "--idempotency-keys", action="store_true", help="send a new Idempotency-Key with every invoice POST"
    )
    parser.add_argument("--rounds", type=int, default=4, help="the endpoints take turns this many times")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per endpoint")
    parser.add_argument("--max-seconds", type=float, default=300, help="time limit per phase")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FAKTUR_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=f"admin connection; the bench database {BENCH_DATABASE!r} is recreated per run",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep the PostgreSQL bench database")
    parser.add_argument(
        "--profile", type=Path, help="py-spy the server in the invoice phase (one round); write here"
    )
    parser.add_argument(
        "--profile-gil", action="store_true", help="sample only threads holding the GIL (CPU, not waits)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    log(f"nproc {os.cpu_count()}, Python {platform.python_version()}, {platform.platform()}")
    load_before = os.getloadavg()
    results = [run_backend(backend, args) for backend in backends]
    load_after = os.getloadavg()
    print(markdown(results))
    print(
        f"\nnproc {os.cpu_count()}, Python {platform.python_version()}; load average (1 min) "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    for r in results:
        if r.hotspots:
            print(f"\n{r.backend} hotspots (py-spy, create+finalize phase):")
            print("\n".join(r.hotspots))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0 if all(r.numbering["ok"] and r.invoices.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
