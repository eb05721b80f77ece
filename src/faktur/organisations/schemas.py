"""Request and response bodies of /v1/organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from faktur.fields import CountryCode, CurrencyCode, Days, Name, ShortText, VatId, text


class OrganisationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trading_name: ShortText | None = None
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    city: text(100) | None = None
    postal_code: text(20) | None = None
    country: CountryCode | None = None
    vat_id: VatId | None = None
    tax_registration_id: text(50) | None = None
    legal_registration_id: text(50) | None = None
    electronic_address: ShortText | None = Field(None, description="Peppol/e-invoice endpoint id")
    electronic_address_scheme: text(10) | None = Field(None, description="EAS code, e.g. 0088 or EM")
    email: text(254) | None = None
    phone: text(50) | None = None
    contact_name: ShortText | None = None
    iban: text(34) | None = None
    bic: text(11) | None = None
    default_currency: CurrencyCode | None = None
    payment_terms_days: Days | None = None
    number_format: text(100, 1) | None = Field(
        None, description="Placeholders {YYYY} {YY} {MM} {SEQ} {SEQ:05}, e.g. INV-{YYYY}-{SEQ:05}"
    )
    number_reset: Literal["yearly", "never"] | None = Field(
        None,
        description="yearly (the series restarts at 1 each year) or never; after a change of this "
        "or of number_format the series continues after the numbers already issued",
    )


class OrganisationCreate(OrganisationFields):
    legal_name: Name


class OrganisationUpdate(OrganisationFields):
    legal_name: Name | None = None


class OrganisationOut(BaseModel):
    id: uuid.UUID
    legal_name: str
    trading_name: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    vat_id: str | None
    tax_registration_id: str | None
    legal_registration_id: str | None
    electronic_address: str | None
    electronic_address_scheme: str | None
    email: str | None
    phone: str | None
    contact_name: str | None
    iban: str | None
    bic: str | None
    default_currency: str
    payment_terms_days: int
    number_format: str
    number_reset: str
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)
