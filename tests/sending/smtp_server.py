"""A real SMTP server on loopback (aiosmtpd) that records what it receives and can refuse on cue,
and the fixtures of the e-mail tests (imported by their modules)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import _free_port
from faktur.app import create_app
from faktur.config import Settings

PUBLIC_URL = "https://billing.seller.example"


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Answers DATA with the next of `refusals` while there are any, then accepts."""

    refusals: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued as 4711"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.handler = RecordingHandler()
        self.port = port
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(_free_port()) as server:
        yield server


@pytest.fixture
def mail_settings(database_url: str, smtp: SmtpServer) -> Settings:
    return Settings(
        database_url=database_url,
        create_demo_organisation=False,
        smtp_url=smtp.url,
        public_url=PUBLIC_URL,
        smtp_from="invoices@seller.example",
        outbox_poll_seconds=0.1,
    )


@pytest.fixture
def mail_app(mail_settings: Settings, engine: Engine) -> FastAPI:
    return create_app(mail_settings, engine)


@pytest.fixture
def mail_client(mail_app: FastAPI) -> TestClient:
    """Without the app's lifespan: no delivery thread, so each test delivers when it says so."""
    return TestClient(mail_app, raise_server_exceptions=False)
