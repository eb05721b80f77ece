"""Request and response bodies of /v1/organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from faktur.fields import CountryCode, CurrencyCode, Days, Name, ShortText, Text, VatId
from faktur.payment_means import SepaCreditorId
from faktur.sending.templates import check_template

_PLACEHOLDERS = "{{ number }}, {{ seller }}, {{ customer }}, {{ amount_due }}, {{ due_date }}, {{ link }}"


def _template(value: str | None) -> str | None:
    return None if value is None else check_template(value)


class OrganisationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trading_name: ShortText | None = None
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    city: Annotated[str, Text(100)] | None = None
    postal_code: Annotated[str, Text(20)] | None = None
    country: CountryCode | None = None
    vat_id: VatId | None = None
    tax_registration_id: Annotated[str, Text(50)] | None = None
    legal_registration_id: Annotated[str, Text(50)] | None = None
    electronic_address: ShortText | None = Field(None, description="Peppol/e-invoice endpoint id")
    electronic_address_scheme: Annotated[str, Text(10)] | None = Field(
        None,
        description="EAS code of the electronic address (BT-34-1), e.g. 0088 or 9930; Peppol documents "
        "refuse EM (e-mail)",
    )
    email: Annotated[str, Text(254)] | None = None
    phone: Annotated[str, Text(50)] | None = None
    contact_name: ShortText | None = None
    iban: Annotated[str, Text(34)] | None = None
    bic: Annotated[str, Text(11)] | None = None
    sepa_creditor_id: SepaCreditorId | None = Field(
        None,
        description="SEPA creditor identifier (EN 16931 BT-90, bank assigned creditor reference), "
        "e.g. DE98ZZZ09999999999; needed for invoices paid by SEPA direct debit",
    )
    register_court: Annotated[str, Text(100)] | None = Field(
        None, description="Register court of the commercial register entry, e.g. Amtsgericht München"
    )
    register_number: Annotated[str, Text(50)] | None = Field(
        None, description="Commercial register number, e.g. HRB 123456; printed in the PDF footer"
    )
    managing_directors: Annotated[str, Text(300)] | None = Field(
        None,
        description="Managing directors as printed in the PDF footer (§35a HGB), e.g. Anna Roth, Jan Berg",
    )
    default_currency: CurrencyCode | None = None
    payment_terms_days: Days | None = None
    number_format: Annotated[str, Text(100, 1)] | None = Field(
        None, description="Placeholders {YYYY} {YY} {MM} {SEQ} {SEQ:05}, e.g. INV-{YYYY}-{SEQ:05}"
    )
    number_reset: Literal["yearly", "never"] | None = Field(
        None,
        description="yearly (the series restarts at 1 each year) or never; after a change of this "
        "or of number_format the series continues after the numbers already issued",
    )
    email_subject: Annotated[Annotated[str, Text(300, 1)] | None, AfterValidator(_template)] = Field(
        None,
        description=f"Subject of invoice e-mails instead of the built-in one (en/de/fr after the customer's "
        f"locale); placeholders {_PLACEHOLDERS}; null: the built-in subject",
    )
    email_body: Annotated[Annotated[str, Text(5000, 1)] | None, AfterValidator(_template)] = Field(
        None,
        description=f"Plain-text body of invoice e-mails instead of the built-in one; placeholders "
        f"{_PLACEHOLDERS}; null: the built-in body",
    )
    email_on_finalize: bool | None = Field(
        None,
        description="true: e-mail every invoice to its customer when it is finalized, and every credit "
        "note when it is issued (a customer's own email_on_finalize wins)",
    )
    credit_note_number_format: Annotated[str, Text(100, 1)] | None = Field(
        None,
        description="Format of credit-note numbers, a gapless series of its own with the same "
        "placeholders and number_reset as invoices; default CN-{YYYY}-{SEQ:05}. It must not render "
        "numbers that the invoice number_format could render too",
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
    sepa_creditor_id: str | None
    register_court: str | None
    register_number: str | None
    managing_directors: str | None
    default_currency: str
    payment_terms_days: int
    number_format: str
    number_reset: str
    email_subject: str | None = Field(description="Own subject of invoice e-mails; null: the built-in one")
    email_body: str | None = Field(description="Own body of invoice e-mails; null: the built-in one")
    email_on_finalize: bool = Field(
        description="E-mail every invoice when it is finalized and every credit note when it is issued"
    )
    credit_note_number_format: str = Field(
        description="Format of credit-note numbers, e.g. CN-{YYYY}-{SEQ:05}"
    )
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)
