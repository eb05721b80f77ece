"""The errors of documents: what an invoice's PDF or e-invoice cannot be issued for."""

from __future__ import annotations

import uuid
from typing import Any

from faktur.errors import InvoiceIsDraft, Unprocessable


class InvoiceNotFinal(InvoiceIsDraft):
    """The document needs a finalized invoice; a draft has only a PDF preview."""

    def __init__(self, invoice_id: uuid.UUID, what: str) -> None:
        super().__init__(
            f"Invoice {invoice_id} is a draft: {what} needs the number and details fixed at finalization. "
            f"Finalize it first (POST /v1/invoices/{invoice_id}/finalize); a draft has only a PDF preview."
        )


class DocumentTextNotRepresentable(Unprocessable):
    """The invoice holds control characters that XML cannot carry; only its plain PDF is available."""

    code = "document_text_not_representable"

    def __init__(self, what: str, details: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{what} cannot be issued: the invoice contains control characters that XML cannot carry "
            f"(in {', '.join(d['field'] for d in details)}). Its plain PDF is available "
            "(?embed=false); correct the text by a credit note and a new invoice.",
            details=details,
        )


class CurrencyNotSupported(Unprocessable):
    """The document's profile cannot carry the invoice's currency."""

    code = "currency_not_supported"

    def __init__(self, what: str, reason: str, details: list[dict[str, Any]]) -> None:
        super().__init__(f"{what} cannot be issued: {reason}.", details=details)


class DocumentDataMissing(Unprocessable):
    """The invoice lacks fields the document's profile requires."""

    code = "document_data_missing"

    def __init__(self, what: str, details: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{what} cannot be issued; the invoice lacks {len(details)} required field(s): "
            + ", ".join(d["field"] for d in details),
            details=details,
        )
