"""Which invoices carry a SEPA GiroCode, and its payload: one rule for the PDF and the hosted page."""

from __future__ import annotations

from decimal import Decimal

from faktur.documents.snapshot import InvoiceSnapshot
from faktur.payment_means import CREDIT_TRANSFER_CODES
from faktur.payment_qr import NoGiroCode, epc_payload


def giro_code_payload(snapshot: InvoiceSnapshot, amount_due: Decimal) -> str | None:
    """The EPC payload of a transfer of `amount_due` when it is due in EUR by credit transfer to
    the seller's IBAN; None otherwise (other currencies, direct debit, cards, credit notes, drafts,
    nothing due)."""
    seller = snapshot.seller
    if (
        snapshot.currency != "EUR"
        or not seller.iban
        or seller.payment_means_code not in CREDIT_TRANSFER_CODES
        or snapshot.is_credit_note
        or snapshot.is_draft
    ):
        return None
    try:
        return epc_payload(
            name=seller.legal_name,
            iban=seller.iban,
            bic=seller.bic,
            amount=amount_due,
            remittance=snapshot.effective_payment_reference or "",
        )
    except NoGiroCode:
        return None  # nothing due, or more than one transfer can carry
