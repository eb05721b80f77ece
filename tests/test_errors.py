"""The refusals of a draft where a finalized invoice is needed share one code and one shape of details."""

from __future__ import annotations

import uuid

import pytest

from faktur.credit_notes.errors import InvoiceNotFinal as CreditOfDraft
from faktur.documents.errors import InvoiceNotFinal as DocumentOfDraft
from faktur.errors import FakturError, InvoiceIsDraft
from faktur.hosted.errors import HostedLinkOfDraft
from faktur.sending.errors import SendOfDraft

DRAFT = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (DocumentOfDraft(DRAFT, "A UBL e-invoice (en16931)"), "A UBL e-invoice (en16931) needs the number"),
        (CreditOfDraft(DRAFT, "draft"), "only a finalized invoice (open, paid or uncollectible) gets credit"),
        (SendOfDraft(DRAFT), "only issued invoices are e-mailed"),
        (HostedLinkOfDraft(DRAFT), "its hosted page exists once it is finalized"),
    ],
)
def test_a_refusal_of_a_draft_is_409_invoice_not_final_with_the_status_and_its_own_message(
    error: FakturError, says: str
) -> None:
    assert isinstance(error, InvoiceIsDraft)
    assert error.status == 409
    assert error.to_body()["error"]["code"] == "invoice_not_final"
    assert error.details == [
        {"field": "status", "reason": "current status is draft", "current_status": "draft"}
    ]
    assert error.message.startswith(f"Invoice {DRAFT} is a") and says in error.message
