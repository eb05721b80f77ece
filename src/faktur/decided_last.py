"""Values a request's transaction decides last, after its response has been rendered.

An invoice number locks its organisation's counter row from the moment it is taken until
COMMIT, and every other finalization of the organisation queues on that row. Rendering the
invoice's response takes longer than taking the number, so an endpoint may let the number be
decided last: the service puts a random stand-in where the number goes, the response is rendered
with it, and just before COMMIT the unit of work (faktur.http.routing) takes the real number and
writes it into the stored row and into the response in place of the stand-in.

Only endpoints whose whole output is the JSON response opt in (`decide_last`); anything else
(dialects, documents, billing runs) gets its numbers at once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

_ENABLED = "faktur_decided_last"
_PENDING = "faktur_decided_last_pending"


@dataclass(frozen=True)
class Pending:
    stand_in: str
    decide: Callable[[], str]


def decide_last(session: Session) -> None:
    """Let this request's transaction decide values last (see the module docstring)."""
    session.info[_ENABLED] = True


def enabled(session: Session) -> bool:
    return bool(session.info.get(_ENABLED))


def defer(session: Session, decide: Callable[[], str]) -> str:
    """Register `decide` to run just before COMMIT; returns the stand-in for its value."""
    stand_in = f"pending-{secrets.token_hex(16)}"
    session.info.setdefault(_PENDING, []).append(Pending(stand_in, decide))
    return stand_in


def decide_all(session: Session) -> dict[str, str]:
    """Run every deferred decision, in the order deferred; stand-in -> value."""
    pending: list[Pending] = session.info.pop(_PENDING, [])
    return {p.stand_in: p.decide() for p in pending}


def substitute(body: bytes, values: dict[str, str]) -> bytes:
    """The JSON `body` with every stand-in string replaced by its value (as a JSON string)."""
    for stand_in, value in values.items():
        body = body.replace(json.dumps(stand_in).encode(), json.dumps(value).encode())
    return body


@event.listens_for(Session, "before_commit")
def _refuse_undecided(session: Session) -> None:
    # Releasing a SAVEPOINT fires before_commit too; only the transaction's own COMMIT counts.
    if session.info.get(_PENDING) and not session.in_nested_transaction():
        raise RuntimeError("committing with values still to decide; call decided_last.decide_all first")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
