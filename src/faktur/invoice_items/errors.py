"""The errors of invoice items (pending one-off charges)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from faktur.errors import Conflict, NotFound, Unprocessable


class InvoiceItemNotFound(NotFound):
    """No invoice item with this id in the caller's organisation."""

    code = "invoice_item_not_found"

    def __init__(self, item_id: uuid.UUID) -> None:
        super().__init__(f"No invoice item {item_id} in this organisation.")


class InvoiceItemsNotFound(InvoiceItemNotFound):
    """Some invoice items asked for are not in the caller's organisation."""

    def __init__(self, unknown: Sequence[tuple[int, uuid.UUID]]) -> None:
        NotFound.__init__(
            self,
            f"No invoice item {', '.join(str(item_id) for _, item_id in unknown[:5])}"
            f"{' ...' if len(unknown) > 5 else ''} in this organisation.",
            details=[
                {"field": f"item_ids[{i}]", "reason": "unknown invoice item", "item_id": str(item_id)}
                for i, item_id in unknown
            ],
        )


class InvoiceItemInvoiced(Conflict):
    """The invoice item is billed by a live invoice and cannot be deleted."""

    code = "invoice_item_invoiced"

    def __init__(self, item_id: uuid.UUID, invoice_id: uuid.UUID) -> None:
        super().__init__(
            f"Invoice item {item_id} is billed by invoice {invoice_id}; void that invoice first "
            "to delete the item.",
            details=[{"field": "id", "reason": "on a live invoice", "invoice_id": str(invoice_id)}],
        )


class InvoiceItemOutOfScope(Unprocessable):
    """An invoice item asked for belongs to another customer or contract than the one given."""

    code = "invoice_item_out_of_scope"

    def __init__(self, wrong: Sequence[tuple[int, uuid.UUID]]) -> None:
        details: list[dict[str, Any]] = [
            {"field": f"item_ids[{index}]", "reason": "other customer or contract", "item_id": str(item_id)}
            for index, item_id in wrong
        ]
        super().__init__(
            f"Invoice item {wrong[0][1]} is outside the customer_id/contract_id given.", details=details
        )
