"""Settings read from the environment (FAKTUR_*), with defaults that run out of the box."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "faktur.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAKTUR_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 20
    # A request that waits longer than this for the SQLite write lock fails with 503.
    sqlite_busy_timeout_ms: int = 30_000
    idempotency_key_ttl_hours: int = 24
    # Larger request bodies are refused with 413 before they are read (before authentication too).
    max_request_body_bytes: int = 10 * 1024 * 1024
    create_demo_organisation: bool = True
    # PostgreSQL only: billing runs are queued for `faktur worker` processes instead of in-process.
    billing_workers: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
