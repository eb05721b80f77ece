"""The immutable invoice snapshot: everything a rendered document shows, copied at finalization.

Every renderer (PDF, UBL, CII, Factur-X) reads only this model, so the PDF and the XML of one invoice
can never disagree. Money is `Decimal` everywhere and serialises to JSON as a string, never a float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

# Decimals travel as strings in JSON so no consumer ever sees a float on the money path.
Money = Annotated[Decimal, PlainSerializer(lambda value: str(value), return_type=str, when_used="json")]


class DocumentType(StrEnum):
    """UNTDID 1001 document type codes faktur issues."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class DocumentStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class TaxCategoryCode(StrEnum):
    """UNCL5305 VAT category codes allowed by EN 16931 (same values as `faktur.calc.TaxCategory`)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"
    CANARY_ISLANDS = "L"
    CEUTA_MELILLA = "M"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Address(_Frozen):
    """A postal address; up to three street lines map to EN 16931 BT-35, BT-36 and BT-162."""

    street_lines: tuple[str, ...] = ()
    city: str | None = None
    postal_code: str | None = None
    subdivision: str | None = None
    country_code: str = Field(min_length=2, max_length=2)

    @field_validator("country_code")
    @classmethod
    def _upper_country(cls, value: str) -> str:
        return value.upper()

    @field_validator("street_lines")
    @classmethod
    def _at_most_three_lines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 3:
            raise ValueError("at most three street lines (EN 16931 BT-35, BT-36, BT-162)")
        return value


class Party(_Frozen):
    """Seller or buyer as it was when the invoice was finalized."""

    legal_name: str = Field(min_length=1)
    trading_name: str | None = None
    address: Address
    vat_id: str | None = None
    tax_registration_id: str | None = None
    legal_registration_id: str | None = None
    electronic_address: str | None = None
    # EAS code list (CEF), e.g. "9930" for a German VAT id, "0088" for a GLN, "EM" for an email address.
    electronic_address_scheme: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None


class SellerParty(Party):
    """The seller also carries the payment account the buyer pays into (EN 16931 BG-16, BG-17)."""

    iban: str | None = None
    bic: str | None = None
    # UNCL4461: 58 SEPA credit transfer, 30 credit transfer, 59 SEPA direct debit, 48/54 card.
    payment_means_code: str = "58"
    # The commercial register entry and managing directors (§35a HGB), printed in the PDF footer.
    register_court: str | None = None
    register_number: str | None = None
    managing_directors: str | None = None


class TaxInfo(_Frozen):
    """VAT category and rate; the rate is None only for category O (not subject to VAT)."""

    category: TaxCategoryCode
    percent: Money | None = None

    @model_validator(mode="after")
    def _rate_matches_category(self) -> TaxInfo:
        if self.category == TaxCategoryCode.NOT_SUBJECT:
            if self.percent not in (None, Decimal(0)):
                raise ValueError("category O (not subject to VAT) has no rate")
        elif self.percent is None:
            raise ValueError(f"category {self.category} needs a rate")
        return self


class LineAdjustment(_Frozen):
    """A line-level allowance (discount) or charge (surcharge), EN 16931 BG-27 / BG-28."""

    is_charge: bool
    amount: Money
    base_amount: Money | None = None
    percent: Money | None = None
    reason: str | None = None
    # UNCL5189 for allowances, UNCL7161 for charges.
    reason_code: str | None = None
    # The VAT-inclusive amount the customer saw (prices_include_tax invoices), shown on the PDF only.
    gross_amount: Money | None = None


class DocumentAdjustment(LineAdjustment):
    """A document-level allowance or charge (BG-20 / BG-21); it carries its own VAT category."""

    tax: TaxInfo


class InvoiceLineSnapshot(_Frozen):
    """One invoice line (BG-25). `unit_price` is net of VAT; `gross_amount` serves inclusive invoices."""

    id: str = Field(min_length=1)
    sku: str | None = None
    name: str = Field(min_length=1)
    description: str | None = None
    quantity: Money
    unit_code: str = "C62"
    unit_price: Money
    adjustments: tuple[LineAdjustment, ...] = ()
    net_amount: Money
    tax: TaxInfo
    # The price as the customer saw it, tax included (only for prices_include_tax invoices).
    gross_unit_price: Money | None = None
    gross_amount: Money | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @property
    def allowances(self) -> tuple[LineAdjustment, ...]:
        return tuple(a for a in self.adjustments if not a.is_charge)

    @property
    def charges(self) -> tuple[LineAdjustment, ...]:
        return tuple(a for a in self.adjustments if a.is_charge)


class TaxBreakdown(_Frozen):
    """One VAT breakdown group (BG-23)."""

    category: TaxCategoryCode
    percent: Money | None = None
    taxable_amount: Money
    tax_amount: Money
    exemption_reason: str | None = None
    # VATEX code list, e.g. "VATEX-EU-AE" for reverse charge.
    exemption_reason_code: str | None = None


class Totals(_Frozen):
    """Document totals, EN 16931 BG-22 (BT-106 .. BT-115)."""

    line_net_total: Money  # BT-106
    allowance_total: Money = Decimal(0)  # BT-107
    charge_total: Money = Decimal(0)  # BT-108
    tax_exclusive_total: Money  # BT-109
    tax_total: Money  # BT-110
    tax_inclusive_total: Money  # BT-112
    paid_amount: Money = Decimal(0)  # BT-113
    rounding_amount: Money = Decimal(0)  # BT-114
    amount_due: Money  # BT-115


class PrecedingInvoice(_Frozen):
    """BG-3: the invoice a credit note (or corrective invoice) refers to."""

    number: str = Field(min_length=1)
    issue_date: dt.date | None = None


class Delivery(_Frozen):
    """BG-13: where and when goods or services were delivered (needed e.g. for intra-community supply)."""

    name: str | None = None
    address: Address | None = None
    date: dt.date | None = None


class PaymentCard(_Frozen):
    """BG-18: the card the buyer pays with, never its full number (BR-51): the last digits only."""

    last_digits: str = Field(min_length=4, max_length=10)  # BT-87
    holder: str | None = None  # BT-88
    # The card network (VISA, ...): UBL needs one (cac:CardAccount/cbc:NetworkID); EN 16931 has no term.
    network: str | None = None


class DirectDebit(_Frozen):
    """BG-19: a SEPA direct debit: the mandate, the seller's creditor id and the account debited."""

    mandate_reference: str = Field(min_length=1)  # BT-89
    creditor_id: str | None = None  # BT-90
    debited_account: str = Field(min_length=1)  # BT-91


class InvoiceSnapshot(_Frozen):
    """Everything a rendered invoice or credit note shows, frozen at finalization."""

    document_type: DocumentType = DocumentType.INVOICE
    status: DocumentStatus = DocumentStatus.FINAL
    number: str | None = None
    issue_date: dt.date
    due_date: dt.date | None = None
    currency: str = Field(min_length=3, max_length=3)
    buyer_reference: str | None = None  # BT-10 (Leitweg-ID in Germany)
    order_reference: str | None = None  # BT-13
    preceding_invoice: PrecedingInvoice | None = None
    notes: tuple[str, ...] = ()
    payment_terms: str | None = None
    # BT-83; the invoice number is used when it is not given.
    payment_reference: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    delivery: Delivery | None = None
    # Set only when the seller's payment means code says card (48, 54) or direct debit (59).
    payment_card: PaymentCard | None = None
    direct_debit: DirectDebit | None = None
    seller: SellerParty
    buyer: Party
    locale: str = "en"
    lines: tuple[InvoiceLineSnapshot, ...] = Field(min_length=1)
    adjustments: tuple[DocumentAdjustment, ...] = ()
    tax_breakdown: tuple[TaxBreakdown, ...] = Field(min_length=1)
    totals: Totals
    prices_include_tax: bool = False

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _final_has_number(self) -> InvoiceSnapshot:
        # A draft has no number yet (numbering happens at finalization, gapless); a final one must.
        if self.status == DocumentStatus.FINAL and not self.number:
            raise ValueError("a final invoice needs a number")
        if self.status == DocumentStatus.DRAFT and self.number:
            raise ValueError("a draft has no number; numbers are assigned at finalization")
        return self

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE

    @property
    def is_full_cancellation(self) -> bool:
        """A credit note that cancels its invoice entirely (see CreditNoteSnapshot)."""
        return False

    @property
    def effective_payment_reference(self) -> str | None:
        return self.payment_reference or self.number
