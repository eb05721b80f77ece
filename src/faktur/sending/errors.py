"""Errors of e-mailing invoices, one class per code."""

from __future__ import annotations

import uuid

from faktur.errors import Conflict, InvoiceIsDraft, Unprocessable


class EmailNotConfigured(Conflict):
    """The server has no SMTP settings, so it cannot e-mail invoices."""

    code = "email_not_configured"

    def __init__(self) -> None:
        super().__init__(
            "E-mail is not configured on this server: set FAKTUR_SMTP_URL "
            "(smtp://user:password@host:587 or smtps://user:password@host:465) and restart faktur."
        )


class SendOfDraft(InvoiceIsDraft):
    """A draft invoice cannot be e-mailed; only issued invoices are sent."""

    def __init__(self, invoice_id: uuid.UUID) -> None:
        super().__init__(
            f"Invoice {invoice_id} is a draft: only issued invoices are e-mailed. "
            f"Finalize it first (POST /v1/invoices/{invoice_id}/finalize)."
        )


class RecipientMissing(Unprocessable):
    """No `to` was given and the customer has no e-mail address."""

    code = "email_recipient_missing"

    def __init__(self) -> None:
        super().__init__(
            "Nobody to send to: the customer has no e-mail address. Give `to`, or set the customer's email "
            "(PATCH /v1/customers/{id}).",
            details=[{"field": "to", "reason": "required when the customer has no email"}],
        )


class SenderMissing(Unprocessable):
    """Neither the organisation nor the server configuration has a sender address."""

    code = "email_sender_missing"

    def __init__(self) -> None:
        super().__init__(
            "No sender address: set the organisation's email (PATCH /v1/organisation) or FAKTUR_SMTP_FROM.",
            details=[{"field": "email", "reason": "the organisation has no email"}],
        )
