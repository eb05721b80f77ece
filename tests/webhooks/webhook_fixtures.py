"""Fixtures of the webhook tests, imported by each test module (not a conftest.py: the suite's
modules import `conftest` by name, which must stay tests/conftest.py): an app that may send to
loopback with retries within a second, and a receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from webhook_receiver import Receiver, free_port
from webhook_settings import webhook_settings

from faktur.app import create_app


@pytest.fixture
def app(database_url: str, engine: Engine) -> FastAPI:
    return create_app(webhook_settings(database_url), engine)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(free_port())
    server.start()
    yield server
    server.stop()
