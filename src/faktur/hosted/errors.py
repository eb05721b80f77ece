"""Errors of the hosted invoice page, one class per code."""

from __future__ import annotations

from faktur.errors import InvoiceIsDraft, NotFound


class HostedPageNotFound(NotFound):
    """No issued invoice has this token (wrong, rotated, or the invoice is a draft): a 404 page."""

    code = "hosted_page_not_found"

    def __init__(self) -> None:
        super().__init__("No invoice behind this link: it is wrong or was replaced by a new one.")


class HostedDocumentNotAvailable(NotFound):
    """The invoice has no e-invoice XML in its profile (the data it needs is missing)."""

    code = "hosted_document_not_available"

    def __init__(self) -> None:
        super().__init__("This invoice has no e-invoice XML.")


class HostedLinkOfDraft(InvoiceIsDraft):
    """A draft has no hosted page yet: it gets one when it is finalized."""

    def __init__(self, invoice_id: object) -> None:
        super().__init__(
            f"Invoice {invoice_id} is a draft: its hosted page exists once it is finalized "
            f"(POST /v1/invoices/{invoice_id}/finalize)."
        )
