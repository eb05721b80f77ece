"""Fixtures of the webhook tests, imported by each test module (not a conftest.py: the suite's
modules import `conftest` by name, which must stay tests/conftest.py): an app that may send to
loopback with retries within a second, and a receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from webhook_receiver import Receiver, free_port

from faktur.app import create_app
from faktur.config import Settings

FAST = {
    "webhook_allow_private_urls": True,
    "webhook_retry_delays_seconds": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
    "webhook_timeout_seconds": 1.0,
    "outbox_poll_seconds": 0.05,
}


def webhook_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(database_url=database_url, create_demo_organisation=False, **{**FAST, **overrides})


@pytest.fixture
def app(database_url: str, engine: Engine) -> FastAPI:
    return create_app(webhook_settings(database_url), engine)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(free_port())
    server.start()
    yield server
    server.stop()
