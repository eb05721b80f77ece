"""Waiting out the service's outbox loop, for tests that compare every stored row before and after
a request: the loop marks committed invoice.finalized and credit_note.issued events as checked for
e-mail in the background (faktur.sending.service.queue_finalized_sends), which is no change of the
request's."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, func, select

from faktur.db import session_scope
from faktur.models import Event
from faktur.sending.service import queue_finalized_sends


def settle_email_checks(session_factory: Any, timeout: float = 30.0) -> None:  # float-ok: seconds
    """Check every committed invoice.finalized and credit_note.issued event now, and wait for a loop
    that holds some."""
    deadline = time.monotonic() + timeout
    emailed = Event.type.in_(("invoice.finalized", "credit_note.issued"))
    unchecked = select(func.count()).where(emailed, Event.email_checked == false())
    while True:
        with session_scope(session_factory) as session:
            queue_finalized_sends(session, datetime.now(UTC), smtp_from=None)
        with session_scope(session_factory) as session:
            if session.execute(unchecked).scalar_one() == 0:
                return
        assert time.monotonic() < deadline, "events stay unchecked for e-mail"
        time.sleep(0.02)  # another loop holds them (SKIP LOCKED): its commit comes
