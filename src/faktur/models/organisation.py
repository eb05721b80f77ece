"""Organisations (the sellers), their API keys and their number series."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base
from faktur.models.types import UtcDateTime

DEFAULT_CREDIT_NOTE_NUMBER_FORMAT = "CN-{YYYY}-{SEQ:05}"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    legal_name: Mapped[str] = mapped_column(String(200), nullable=False)
    trading_name: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(30))
    tax_registration_id: Mapped[str | None] = mapped_column(String(50))
    legal_registration_id: Mapped[str | None] = mapped_column(String(50))
    electronic_address: Mapped[str | None] = mapped_column(String(200))
    electronic_address_scheme: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    # SEPA creditor identifier (EN 16931 BT-90), needed to collect by direct debit.
    sepa_creditor_id: Mapped[str | None] = mapped_column(String(35))
    # Commercial register entry and managing directors, printed in the PDF footer (§35a HGB).
    register_court: Mapped[str | None] = mapped_column(String(100))
    register_number: Mapped[str | None] = mapped_column(String(50))
    managing_directors: Mapped[str | None] = mapped_column(String(300))
    default_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    payment_terms_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    number_format: Mapped[str] = mapped_column(String(100), nullable=False, default="INV-{YYYY}-{SEQ:05}")
    number_reset: Mapped[str] = mapped_column(String(10), nullable=False, default="yearly")
    # E-mail of invoices (faktur.sending): the organisation's own subject and body text instead of
    # the built-in templates, and whether every invoice is e-mailed when it is finalized.
    email_subject: Mapped[str | None] = mapped_column(String(300))
    email_body: Mapped[str | None] = mapped_column(Text)
    email_on_finalize: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Credit notes have their own gapless series (number_reset applies to it as to invoices).
    credit_note_number_format: Mapped[str] = mapped_column(
        String(100),
        nullable=False,
        default=DEFAULT_CREDIT_NOTE_NUMBER_FORMAT,
        server_default=DEFAULT_CREDIT_NOTE_NUMBER_FORMAT,
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    # SHA-256 of the whole key: keys are long random secrets, so a fast hash is enough at rest.
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_api_keys_organisation_id", "organisation_id"),)


class NumberSeries(Base):
    """The gapless counter of one organisation's series in one period (a year, or '' for never)."""

    __tablename__ = "number_series"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    series: Mapped[str] = mapped_column(String(50), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1)
