"""The errors of orders and of invoicing them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from faktur.errors import AmountTooPrecise, Conflict, NotFound, Unprocessable


class OrderNotFound(NotFound):
    """No order with this id (or external reference) in the caller's organisation."""

    code = "order_not_found"

    def __init__(self, order_id: uuid.UUID) -> None:
        super().__init__(f"No order {order_id} in this organisation.")


class OrderExternalReferenceTaken(Conflict):
    """Another order of the organisation has this external_reference."""

    code = "order_external_reference_taken"

    def __init__(self, external_reference: str) -> None:
        super().__init__(
            f"An order with external_reference {external_reference!r} already exists; "
            "fetch it with GET /v1/orders instead of creating it again.",
            details=[{"field": "external_reference", "reason": "already used in this organisation"}],
        )


class DiscountTooPrecise(AmountTooPrecise):
    """An order line's discount has more decimals than the order's currency."""

    def __init__(self, index: int, amount: Decimal, currency: str, minor_units: int) -> None:
        super().__init__(
            f"The discount {amount} of line {index + 1} has more decimals than {currency} allows "
            f"({minor_units}).",
            details=[
                {"field": f"lines[{index}].discount.amount", "reason": "too many decimals for the currency"}
            ],
        )


class DiscountExceedsLineAmount(Unprocessable):
    """An order line's discount is larger than quantity x unit price."""

    code = "discount_exceeds_line_amount"

    def __init__(self, index: int, discount_text: str, amount_text: str) -> None:
        super().__init__(
            f"The discount of line {index + 1} ({discount_text}) "
            f"is larger than the line amount ({amount_text}).",
            details=[{"field": f"lines[{index}].discount", "reason": "larger than quantity x unit price"}],
        )


class OrderFullyInvoiced(Conflict):
    """Every line of the order is invoiced in full."""

    code = "order_fully_invoiced"

    def __init__(self, order_id: uuid.UUID) -> None:
        super().__init__(
            f"Order {order_id} is fully invoiced: nothing remains to invoice. "
            "Void one of its invoices to invoice its quantities again.",
            details=[{"field": "lines", "reason": "remaining quantity is 0 on every line"}],
        )


class OrderLineNotInOrder(Unprocessable):
    """An order line asked for is not a line of the order."""

    code = "order_line_not_in_order"

    def __init__(self, order_id: uuid.UUID, unknown: list[dict[str, Any]]) -> None:
        super().__init__(
            f"Order line {unknown[0]['order_line_id']} is not a line of order {order_id}.", details=unknown
        )


class QuantityExceedsRemaining(Conflict):
    """More of an order line was asked for than is left to invoice."""

    code = "quantity_exceeds_remaining"

    def __init__(self, exceeding: list[dict[str, Any]]) -> None:
        first = exceeding[0]
        super().__init__(
            f"Order line {first['order_line_id']} has {first['remaining_quantity']} left to invoice; "
            f"{first['requested_quantity']} were requested.",
            details=exceeding,
        )


class OrderQuantityExceedsRemaining(QuantityExceedsRemaining):
    """Invoicing the order would bill more of a line than the order holds."""

    def __init__(self, order_id: uuid.UUID, exceeding: list[dict[str, Any]]) -> None:
        Conflict.__init__(
            self,
            f"Order {order_id}: {exceeding[0]['reason']}; invoices of an order never bill more than it holds "
            "(void an invoice of the order to invoice its quantities again).",
            details=exceeding,
        )
