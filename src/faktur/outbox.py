"""The outbox loop: sends what the outbox tables hold (webhooks, e-mails, and the e-mails that
committed invoice.finalized and credit_note.issued events ask for), outside requests.

Each kind of outbox work is a *drain*: a callable that does one pass over its due work and
says how much it did and whether a batch came back full (`faktur.outbox_pass.Pass`). The loop
calls every drain in turn, again at once while a drain's batch was full, and otherwise sleeps
`poll_seconds`: a steady stream of events (every finalization records one) is drained in batches
once per interval, not in a pass per event competing with the requests that record them.

The service runs the loop in a thread (SQLite, and PostgreSQL without `faktur worker`);
`faktur worker` runs it beside its billing worker. Several loops at once are safe: drains lease
their rows (SKIP LOCKED on PostgreSQL).

A new kind of outbox registers one factory in `DRAIN_FACTORIES` (name -> factory(factory, settings)).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from faktur.config import Settings
from faktur.db import session_scope
from faktur.events.service import purge_expired
from faktur.invoices.overdue import record_overdue
from faktur.outages import Outage, is_transient
from faktur.outbox_pass import NOTHING, Pass
from faktur.sending.delivery import deliver_due_sends, delivery_config
from faktur.sending.service import FINALIZED_BATCH, queue_finalized_sends
from faktur.webhooks.delivery import DeliveryPolicy, WebhookDrain

logger = logging.getLogger("faktur.outbox")

Drain = Callable[[], Pass]
SessionFactory = sessionmaker[Session]
SEND_BATCH = 20  # e-mails sent per pass of the e-mail drain


class Every:
    """A drain that runs `work` at most once per `interval` (scans that need not run each pass)."""

    def __init__(self, interval: float, work: Callable[[], int]) -> None:  # float-ok: seconds
        self.interval = interval
        self.work = work
        self.next_run = 0.0  # float-ok: monotonic seconds

    def __call__(self) -> Pass:
        now = time.monotonic()
        if now < self.next_run:
            return NOTHING
        self.next_run = now + self.interval
        self.work()
        return NOTHING  # a scan's finds are other drains' work; it never keeps the loop busy itself


def webhook_drain(factory: SessionFactory, settings: Settings) -> Drain:
    return WebhookDrain(
        factory,
        DeliveryPolicy(
            retry_delays=tuple(timedelta(seconds=s) for s in settings.webhook_retry_delays_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
            disable_after=timedelta(hours=settings.webhook_disable_after_hours),
            allow_private_urls=settings.webhook_allow_private_urls,
        ),
    )


def email_drain(factory: SessionFactory, settings: Settings) -> Drain:
    """Queued invoice e-mails (faktur.sending); nothing to do without FAKTUR_SMTP_URL."""
    config = delivery_config(settings)
    if config is None:
        return lambda: NOTHING

    def deliver() -> Pass:
        return Pass.of(deliver_due_sends(factory, config, limit=SEND_BATCH), SEND_BATCH)

    return deliver


def finalized_email_drain(factory: SessionFactory, settings: Settings) -> Drain:
    """Queue the e-mails of newly finalized invoices and issued credit notes whose customer or
    organisation wants them (faktur.sending.service.queue_finalized_sends), before the e-mail drain
    delivers them."""

    def queue() -> Pass:
        with session_scope(factory) as session:
            checked = queue_finalized_sends(session, datetime.now(UTC), smtp_from=settings.smtp_from)
        return Pass.of(checked, FINALIZED_BATCH)

    return queue


def overdue_drain(factory: SessionFactory, settings: Settings) -> Drain:
    def scan() -> int:
        with session_scope(factory) as session:
            return record_overdue(session, datetime.now(UTC))

    return Every(settings.outbox_overdue_scan_seconds, scan)


def retention_drain(factory: SessionFactory, settings: Settings) -> Drain:
    def purge() -> int:
        with session_scope(factory) as session:
            return purge_expired(session, datetime.now(UTC))

    return Every(3600.0, purge)


DRAIN_FACTORIES: dict[str, Callable[[SessionFactory, Settings], Drain]] = {
    "webhooks": webhook_drain,
    "emails_on_finalization": finalized_email_drain,
    "emails": email_drain,
    "invoice_overdue": overdue_drain,
    "event_retention": retention_drain,
}


def make_drains(factory: SessionFactory, settings: Settings) -> dict[str, Drain]:
    return {name: make(factory, settings) for name, make in DRAIN_FACTORIES.items()}


class OutboxLoop:
    """Calls the drains until stopped, in one daemon thread."""

    def __init__(self, drains: dict[str, Drain], poll_seconds: float) -> None:  # float-ok: seconds
        self.drains = drains
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = Outage("outbox loop", logger.warning)

    def run_once(self) -> Pass:
        """One pass over every drain. A bug in one drain is logged and the others run; a database
        outage ends the pass (every drain needs the database), raised for `run` to wait out."""
        done = NOTHING
        for name, drain in self.drains.items():
            try:
                done += drain()
            except Exception as exc:
                if is_transient(exc):
                    raise
                logger.exception("outbox drain %s failed; trying again at the next pass", name)
        return done

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                more = self.run_once().more
            except Exception as exc:
                # Transient only (run_once): one line when the outage starts and one when it ends.
                self._outage.wait(exc, self._stop)
                continue
            self._outage.over()
            if not more:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="faktur-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:  # float-ok: seconds
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for drain in self.drains.values():
            close = getattr(drain, "close", None)
            if close is not None:
                close()


def start_loop(factory: SessionFactory, settings: Settings) -> OutboxLoop:
    loop = OutboxLoop(make_drains(factory, settings), settings.outbox_poll_seconds)
    loop.start()
    return loop
