"""The errors of customers."""

from __future__ import annotations

import uuid

from faktur.errors import NotFound


class CustomerNotFound(NotFound):
    """No customer with this id in the caller's organisation."""

    code = "customer_not_found"

    def __init__(self, customer_id: uuid.UUID, *, field: str | None = None) -> None:
        super().__init__(
            f"No customer {customer_id} in this organisation.",
            details=None if field is None else [{"field": field, "reason": "unknown customer"}],
        )
