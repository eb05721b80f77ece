"""Settings read from the environment (FAKTUR_*), with defaults that run out of the box."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from faktur.db import (
    DEFAULT_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    DEFAULT_POSTGRES_LOCK_TIMEOUT_MS,
    DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
    DEFAULT_SQLITE_WRITE_LOCK_TIMEOUT_MS,
)


def default_sqlite_path() -> Path:
    """The per-user default database: the same file whatever directory faktur runs in.

    `$XDG_DATA_HOME/faktur/faktur.sqlite3` on Linux (`~/.local/share/...` when unset), the platform's
    user data directory elsewhere. The service and the CLI both read it here.
    """
    return platformdirs.user_data_path("faktur") / "faktur.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAKTUR_", extra="ignore")

    database_url: str = Field(default_factory=lambda: f"sqlite:///{default_sqlite_path()}")
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 20
    # SQLite: how long a writer waits for its turn behind faktur's other writers (threads and
    # processes) before it gives up with 503 database_busy.
    sqlite_write_lock_timeout_ms: int = DEFAULT_SQLITE_WRITE_LOCK_TIMEOUT_MS
    # SQLite's own busy handler: how long to wait for a lock held by a program other than faktur.
    sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS
    # PostgreSQL: how long a statement waits for a lock another transaction holds before it gives
    # up (a request: 503 database_busy), and how long a transaction may sit idle between two of
    # its statements before the server ends it (freeing its locks). 0 turns either off.
    postgres_lock_timeout_ms: int = Field(DEFAULT_POSTGRES_LOCK_TIMEOUT_MS, ge=0)
    postgres_idle_in_transaction_timeout_ms: int = Field(
        DEFAULT_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS, ge=0
    )
    idempotency_key_ttl_hours: int = 24
    # Larger request bodies are refused with 413 before they are read (before authentication too).
    max_request_body_bytes: int = 10 * 1024 * 1024
    create_demo_organisation: bool = True
    # PostgreSQL only: billing runs are queued for `faktur worker` processes instead of in-process.
    billing_workers: bool = False
    # A billing run's executor renews its lease at least this often (seconds); a run whose lease
    # has not been renewed for this long is taken over: by a `faktur worker` (PostgreSQL) or, for
    # runs executed in-process, by the service, which also looks for such runs at start.
    billing_run_lease_seconds: float = 60.0  # float-ok: seconds
    # Where customers open hosted invoice pages (links in API responses and e-mails), e.g.
    # https://billing.example.com; unset: the URL a request was made to, or http://host:port.
    public_url: str | None = None
    # smtp://user:password@host:587 (STARTTLS when the server offers it, required with a password)
    # or smtps://user:password@host:465 (TLS from the start); unset: sending is refused with 409.
    smtp_url: str | None = None
    # The From address of invoice e-mails; unset: the organisation's e-mail address.
    smtp_from: str | None = None
    # Webhooks (faktur.webhooks). URLs resolving to private, loopback or link-local addresses are
    # refused unless this allows them (SSRF); tests and local development turn it on.
    webhook_allow_private_urls: bool = False
    # Waits before each retry of a failed delivery; after the last one the delivery is failed.
    webhook_retry_delays_seconds: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]  # float-ok: seconds
    webhook_timeout_seconds: float = 15.0  # float-ok: seconds
    # An endpoint whose every attempt failed for this long is disabled (an event says so).
    webhook_disable_after_hours: float = 120.0  # float-ok: hours
    # After POST .../rotate-secret the previous secret signs too for this long, unless the request says.
    webhook_secret_grace_hours: int = 24
    # The outbox loop (faktur.outbox): the service runs it in a thread unless `faktur worker`
    # processes deliver (PostgreSQL with billing_workers); how often it looks for due work (at
    # once again after a pass that found a full batch).
    outbox_in_process: bool = True
    outbox_poll_seconds: float = 1.0  # float-ok: seconds
    # How often the loop looks for invoices that became overdue (one invoice.overdue each).
    outbox_overdue_scan_seconds: float = 300.0  # float-ok: seconds


@lru_cache
def get_settings() -> Settings:
    return Settings()
