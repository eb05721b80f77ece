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
    """An invoice or credit-note number format cannot number documents (e.g. no sequence)."""

    code = "invalid_number_format"

    def __init__(self, number_format: str, reason: str, *, field: str = "number_format") -> None:
        super().__init__(
            f"The {field.replace('_', ' ')} {number_format!r} cannot be used: {reason}.",
            details=[{"field": field, "reason": reason}],
        )


class NumberFormatsOverlap(Unprocessable):
    """The credit-note number format renders numbers the invoice number format renders too."""

    code = "invalid_number_format"

    def __init__(self, number_format: str, credit_note_number_format: str) -> None:
        super().__init__(
            f"The credit note number format {credit_note_number_format!r} renders numbers "
            f"that the invoice number format {number_format!r} renders too; give credit "
            "notes a prefix of their own, e.g. CN-{YYYY}-{SEQ:05}.",
            details=[{"field": "credit_note_number_format", "reason": "overlaps the invoice number format"}],
        )
