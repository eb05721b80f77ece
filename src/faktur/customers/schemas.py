"""Request and response bodies of /v1/customers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from faktur.fields import CountryCode, CurrencyCode, LocaleCode, Metadata, Name, ShortText, Text, VatId
from faktur.payment_means import PaymentMeansIn


class CustomerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Text(254)] | None = None
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    city: Annotated[str, Text(100)] | None = None
    postal_code: Annotated[str, Text(20)] | None = None
    country: CountryCode | None = None
    vat_id: VatId | None = None
    legal_registration_id: Annotated[str, Text(50)] | None = None
    currency: CurrencyCode | None = Field(None, description="Default currency of this customer's invoices")
    locale: LocaleCode | None = Field(None, description="Language of documents, e.g. en, de, fr")
    buyer_reference: ShortText | None = Field(None, description="EN 16931 BT-10, e.g. a Leitweg-ID")
    electronic_address: ShortText | None = None
    electronic_address_scheme: Annotated[str, Text(10)] | None = None
    external_reference: ShortText | None = None
    payment_means: PaymentMeansIn | None = Field(
        None,
        description="How this customer pays by default: SEPA direct debit (mandate, debited IBAN), "
        "a card, or credit transfer (the default); an invoice may override it",
    )
    metadata: Metadata | None = None
    einvoice_profile: Literal["en16931", "xrechnung", "peppol"] | None = Field(
        None,
        description="The e-invoice this customer receives: xrechnung or peppol (the UBL is attached to "
        "invoice e-mails and linked on the hosted page), en16931 or null (the PDF, Factur-X where it "
        "applies; the hosted page links the EN 16931 UBL)",
    )
    email_on_finalize: bool | None = Field(
        None,
        description="true/false: e-mail this customer's invoices when they are finalized and their "
        "credit notes when they are issued, or not; null: as the organisation's email_on_finalize says",
    )


class CustomerCreate(CustomerFields):
    name: Name


class CustomerUpdate(CustomerFields):
    name: Name | None = None


class CustomerOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    vat_id: str | None
    legal_registration_id: str | None
    currency: str | None
    locale: str
    buyer_reference: str | None
    electronic_address: str | None
    electronic_address_scheme: str | None
    external_reference: str | None
    payment_means: dict[str, Any] | None
    metadata: dict[str, Any]
    einvoice_profile: str | None = Field(description="xrechnung, peppol, en16931 or null")
    email_on_finalize: bool | None = Field(
        description="E-mail invoices on finalization and credit notes on issue; null: the organisation's"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Any) -> CustomerOut:
        values = {name: getattr(customer, name) for name in cls.model_fields if name != "metadata"}
        return cls(**values, metadata=customer.metadata_)
