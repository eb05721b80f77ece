"""SQL of the hosted page: the invoice a token opens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from faktur.models import Invoice


def invoice_by_token_sha256(session: Session, token_sha256: str) -> Invoice | None:
    return session.scalars(select(Invoice).where(Invoice.hosted_token_sha256 == token_sha256)).one_or_none()
