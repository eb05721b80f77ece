"""Stored responses of POST requests, keyed by (organisation, Idempotency-Key)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base
from faktur.models.types import UtcDateTime


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    # Expired keys are purged oldest first, a few per new claim of the same organisation.
    __table_args__ = (Index("ix_idempotency_keys_org_created", "organisation_id", "created_at"),)
