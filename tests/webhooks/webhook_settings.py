"""Settings of webhook tests: loopback receivers allowed, retries within a second, a fast loop;
as `Settings` for an app in the test process, or as the environment of a `faktur` process."""

from __future__ import annotations

import json

from faktur.config import Settings

FAST = {
    "webhook_allow_private_urls": True,
    "webhook_retry_delays_seconds": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
    "webhook_timeout_seconds": 1.0,
    "outbox_poll_seconds": 0.05,
}


def webhook_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(database_url=database_url, create_demo_organisation=False, **{**FAST, **overrides})


def webhook_env(**overrides: object) -> dict[str, str]:
    """FAST (and `overrides`) as FAKTUR_* environment variables."""
    return {f"FAKTUR_{name.upper()}": json.dumps(value) for name, value in {**FAST, **overrides}.items()}
