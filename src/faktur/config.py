"""Settings read from the environment (FAKTUR_*), with defaults that run out of the box."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    # A request that waits longer than this for the SQLite write lock fails with 503.
    sqlite_busy_timeout_ms: int = 30_000
    idempotency_key_ttl_hours: int = 24
    create_demo_organisation: bool = True
    # PostgreSQL only: billing runs are queued for `faktur worker` processes instead of in-process.
    billing_workers: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
