"""Request and response bodies of POST /v1/invoices/{id}/send, POST /v1/credit-notes/{id}/send and
their GET .../sends."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# One address, no display name: no white space (so no header can be smuggled in), one @, a dot after it.
EmailAddress = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$"),
]


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[EmailAddress] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Recipients; unset: the customer's e-mail address",
    )
    cc: list[EmailAddress] = Field(default_factory=list, max_length=20, description="Copy recipients")


class SendOut(BaseModel):
    id: uuid.UUID = Field(description="The send's id")
    invoice_id: uuid.UUID | None = Field(description="The invoice e-mailed; null for a credit note's send")
    credit_note_id: uuid.UUID | None = Field(
        description="The credit note e-mailed; null for an invoice's send"
    )
    status: str = Field(
        description="queued (waiting, or to be retried after a temporary refusal), sent (the server "
        "accepted it) or failed (refused for good, or retries exhausted: see server_answer)"
    )
    trigger: str = Field(
        description="request (POST .../send) or finalized (the e-mail on finalization setting: an invoice "
        "when finalized, a credit note when issued)"
    )
    to: list[str] = Field(description="Recipients")
    cc: list[str] = Field(description="Copy recipients")
    subject: str | None = Field(description="The subject as sent; null until the message is built")
    message_id: str = Field(description="The Message-ID header, the same on every attempt")
    attachments: list[dict[str, Any]] = Field(
        description="What the message carried: kind (pdf, facturx, ubl), profile, filename, sha256 (as "
        "the stored document's ETag)"
    )
    attempts: int = Field(description="SMTP attempts so far")
    server_answer: str | None = Field(description="The SMTP server's last answer, or the error")
    created_at: datetime = Field(description="When the send was asked for")
    sent_at: datetime | None = Field(description="When the server accepted it")
    next_attempt_at: datetime | None = Field(description="When a queued send is tried (again)")

    @classmethod
    def of(cls, send: Any) -> SendOut:
        return cls(
            id=send.id,
            invoice_id=send.invoice_id,
            credit_note_id=send.credit_note_id,
            status=send.status,
            trigger=send.trigger,
            to=send.to_addresses,
            cc=send.cc_addresses,
            subject=send.subject,
            message_id=send.message_id,
            attachments=send.attachments,
            attempts=send.attempts,
            server_answer=send.server_answer,
            created_at=send.created_at,
            sent_at=send.sent_at,
            next_attempt_at=send.next_attempt_at if send.status == "queued" else None,
        )


class SendList(BaseModel):
    data: list[SendOut] = Field(description="The document's sends, oldest first")
