"""The errors of organisations and their API keys."""

from __future__ import annotations

import uuid

from faktur.errors import NotFound, Unprocessable


class OrganisationNotFound(NotFound):
    """No organisation with this id."""

    code = "organisation_not_found"

    def __init__(self, organisation_id: uuid.UUID) -> None:
        super().__init__(f"No organisation {organisation_id}.")


class ApiKeyNotFound(NotFound):
    """No API key with this id (or this secret) was issued by this database."""

    code = "api_key_not_found"

    def __init__(self, key_id: uuid.UUID | None = None) -> None:
        super().__init__(
            "No such API key: it was never issued by this database."
            if key_id is None
            else f"No API key {key_id}."
        )


class NumberFormatUnusable(Unprocessable):
    """The organisation's invoice number format cannot number invoices (e.g. no sequence)."""

    code = "invalid_number_format"

    def __init__(self, number_format: str, reason: str) -> None:
        super().__init__(
            f"The number format {number_format!r} cannot be used: {reason}.",
            details=[{"field": "number_format", "reason": reason}],
        )
