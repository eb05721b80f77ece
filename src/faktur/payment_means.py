"""How an invoice is paid: credit transfer, SEPA direct debit or payment card (EN 16931 BG-16..BG-19).

Where each part lives: the organisation holds what is the seller's (its account for credit transfers,
BG-17, and its SEPA creditor identifier, BT-90); the customer holds how it pays by default (a mandate
and the account debited, or the card it pays with); an invoice may override the customer's default.
Finalization copies the organisation and the customer into the invoice's snapshots, so the means an
issued invoice shows never change. Without any payment means, an invoice asks for a credit transfer to
the organisation's IBAN.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from stdnum import iban as stdnum_iban
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError

from faktur.fields import Text


class PaymentMethod(StrEnum):
    CREDIT_TRANSFER = "credit_transfer"
    SEPA_DIRECT_DEBIT = "sepa_direct_debit"
    BANK_CARD = "bank_card"
    CREDIT_CARD = "credit_card"


# UNCL4461 payment means codes (BT-81). A credit transfer is 58 (SEPA) in EUR and 30 otherwise.
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
SEPA_DIRECT_DEBIT = "59"
BANK_CARD = "48"
CREDIT_CARD = "54"
# The seller gave neither an account nor other means (BR-61 asks for an account only for 30 and 58).
NOT_DEFINED = "1"
CREDIT_TRANSFER_CODES = frozenset({CREDIT_TRANSFER, SEPA_CREDIT_TRANSFER})
CARD_CODES = frozenset({BANK_CARD, CREDIT_CARD})
_CODES = {
    PaymentMethod.SEPA_DIRECT_DEBIT: SEPA_DIRECT_DEBIT,
    PaymentMethod.BANK_CARD: BANK_CARD,
    PaymentMethod.CREDIT_CARD: CREDIT_CARD,
}


def _iban(value: str) -> str:
    try:
        return str(stdnum_iban.validate(value))
    except StdnumError as exc:
        raise ValueError(f"not a valid IBAN ({exc})") from exc


def _creditor_id(value: str) -> str:
    try:
        return str(at_02.validate(value))
    except StdnumError as exc:
        raise ValueError(f"not a valid SEPA creditor identifier ({exc})") from exc


Iban = Annotated[str, Field(min_length=5, max_length=42), AfterValidator(_iban)]
SepaCreditorId = Annotated[
    str,
    Field(
        min_length=8,
        max_length=35,
        description="SEPA creditor identifier (EN 16931 BT-90), e.g. DE98ZZZ09999999999",
    ),
    AfterValidator(_creditor_id),
]
# SEPA mandate references: up to 35 characters of the SEPA character set (EPC rulebook).
MandateReference = Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9/?:().,'+ -]+$")]


class PaymentMeansIn(BaseModel):
    """How the buyer pays: the method and what it needs (a mandate and account, or the card)."""

    model_config = ConfigDict(extra="forbid")

    method: PaymentMethod = Field(
        description="credit_transfer (58/30, to the organisation's IBAN), sepa_direct_debit (59), "
        "bank_card (48) or credit_card (54)"
    )
    mandate_reference: MandateReference | None = Field(
        None, description="SEPA direct debit mandate reference (BT-89); required for sepa_direct_debit"
    )
    debited_iban: Iban | None = Field(
        None, description="IBAN of the account debited (BT-91); required for sepa_direct_debit"
    )
    card_last_digits: str | None = Field(
        None,
        pattern=r"^[0-9]{4}$",
        description="Last four digits of the card (BT-87); required for cards. Never the full number.",
    )
    card_holder: Annotated[str, Text(100)] | None = Field(None, description="Card holder name (BT-88)")
    card_network: Annotated[str, Text(30)] | None = Field(
        None, description="Card network, e.g. VISA (UBL NetworkID)"
    )

    @model_validator(mode="after")
    def _details_match_method(self) -> PaymentMeansIn:
        debit = (self.mandate_reference, self.debited_iban)
        card = (self.card_last_digits, self.card_holder, self.card_network)
        if self.method == PaymentMethod.SEPA_DIRECT_DEBIT:
            if None in debit:
                raise ValueError("sepa_direct_debit needs mandate_reference and debited_iban")
            if any(card):
                raise ValueError("card fields are only for bank_card and credit_card")
        elif self.method in (PaymentMethod.BANK_CARD, PaymentMethod.CREDIT_CARD):
            if self.card_last_digits is None:
                raise ValueError(f"{self.method.value} needs card_last_digits")
            if any(debit):
                raise ValueError("mandate_reference and debited_iban are only for sepa_direct_debit")
        elif any(debit) or any(card):
            raise ValueError(
                "credit_transfer takes no mandate or card fields (it pays the organisation's IBAN)"
            )
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def payment_means_code(means: dict[str, Any] | None, seller_iban: str | None, currency: str) -> str:
    """BT-81 for stored payment means (None: the organisation's default, a credit transfer)."""
    method = PaymentMethod(means["method"]) if means else None
    if method in _CODES:
        return _CODES[method]
    if method is None and not seller_iban:
        return NOT_DEFINED
    return SEPA_CREDIT_TRANSFER if currency == "EUR" else CREDIT_TRANSFER
