"""SQL of the hosted page: the invoice a token opens."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from faktur.models import Invoice


def invoice_by_token_sha256(
    session: Session, organisation_id: uuid.UUID, token_sha256: str
) -> Invoice | None:
    stmt = select(Invoice).where(
        Invoice.organisation_id == organisation_id, Invoice.hosted_token_sha256 == token_sha256
    )
    return session.scalars(stmt).one_or_none()
