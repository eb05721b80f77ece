"""FakturError, the one exception type for expected failures, and the cross-cutting errors.

Every error response is {"error": {"code", "message", "details"}}: `code` is stable snake_case for
programs, `message` is for a person, `details` lists field-level problems ({"field", "reason", ...}).

Each code a client can see belongs to one class in an errors module (this one for what no domain
owns, `<domain>/errors.py` for the rest); its docstring is the code's meaning in docs/errors.md and
tests/test_error_codes.py pins the whole set, so a code is never renamed or dropped by accident.
"""

from __future__ import annotations

from typing import Any

from faktur.calc.errors import CalcError, NumberOutOfRange


class FakturError(Exception):
    """The request is malformed in a way no more specific code names."""

    status: int = 400
    code: str = "bad_request"
    # Sent as Retry-After: set by errors that a retry after a while resolves (503s).
    retry_after_seconds: int | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or []

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(FakturError):
    """No such endpoint, or no such object in the caller's organisation."""

    status = 404
    code = "not_found"


class Conflict(FakturError):
    """The request conflicts with data stored meanwhile (a concurrent write won); retry it."""

    status = 409
    code = "conflict"


class Unprocessable(FakturError):
    """The request is well-formed but a field is invalid; `details` names each field and why."""

    status = 422
    code = "validation_error"


class Unauthorized(FakturError):
    """The request lacks valid authentication."""

    status = 401
    code = "unauthorized"


# --- the request as HTTP sees it -----------------------------------------------------------------


class InvalidRequest(Unprocessable):
    """The request does not match its schema; `details` lists each field and why."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        summary = "; ".join(f"{d['field']}: {d['reason']}" for d in details[:3])
        super().__init__(f"The request is invalid: {summary}", details=details)


class FieldCannotBeCleared(Unprocessable):
    """A PATCH sets a required field to null."""

    def __init__(self, field: str, reason: str = "must not be null") -> None:
        super().__init__(f"{field} cannot be cleared.", details=[{"field": field, "reason": reason}])


class MalformedJson(FakturError):
    """The request body is not valid JSON."""

    code = "malformed_json"


class InvalidCursor(FakturError):
    """The paging cursor is not one this API returned."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this API returned; pass next_cursor from the previous page.",
            details=[{"field": "cursor", "reason": "not a valid cursor"}],
        )


class Forbidden(FakturError):
    """The request is not allowed."""

    status = 403
    code = "forbidden"


class MethodNotAllowed(FakturError):
    """The endpoint exists but not for this HTTP method; the Allow header lists those it takes."""

    status = 405
    code = "method_not_allowed"


class NotAcceptable(FakturError):
    """The endpoint cannot answer in a media type the Accept header allows."""

    status = 406
    code = "not_acceptable"


class PayloadTooLarge(FakturError):
    """The request body is larger than the server accepts."""

    status = 413
    code = "payload_too_large"


class RequestBodyTooLarge(PayloadTooLarge):
    """The request body exceeds the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than this server accepts ({limit} bytes); send less per request "
            "(for example fewer lines or events)."
        )


class UnsupportedMediaType(FakturError):
    """The request body's Content-Type is not one the endpoint reads."""

    status = 415
    code = "unsupported_media_type"


class HttpError(FakturError):
    """Another HTTP-level refusal; the status says which."""

    code = "http_error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, status=status)


class InternalError(FakturError):
    """A bug in faktur: nothing was stored and the server log has the traceback."""

    status = 500
    code = "internal_error"

    def __init__(self) -> None:
        super().__init__("An unexpected error occurred.")


def status_details(status: str) -> list[dict[str, Any]]:
    """The `details` of a refusal because of the status an object has."""
    return [{"field": "status", "reason": f"current status is {status}", "current_status": status}]


class InvoiceIsDraft(Conflict):
    """The invoice is a draft: documents (a draft has only a PDF preview), e-mails, the hosted page
    and credit notes need a finalized invoice; each refusal says which, in its message."""

    code = "invoice_not_final"

    def __init__(self, message: str, status: str = "draft") -> None:
        super().__init__(message, details=status_details(status))


class ConcurrentWriteConflict(Conflict):
    """A uniqueness rule of the database refused a write that raced another one; retry."""

    def __init__(self) -> None:
        super().__init__("The request conflicts with data stored meanwhile; retry it.")


# --- authentication and idempotency -------------------------------------------------------------


class MissingApiKey(Unauthorized):
    """No API key was sent."""

    code = "missing_api_key"

    def __init__(self, header: str | None = None) -> None:
        super().__init__(
            "No API key given: send 'Authorization: Bearer <api key>'."
            if header is None
            else f"No API key given: send it in the '{header}' header."
        )


class InvalidApiKey(Unauthorized):
    """The API key is unknown or revoked."""

    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__("The API key is unknown or revoked.")


class InvalidIdempotencyKey(FakturError):
    """The Idempotency-Key header is empty, too long or not printable."""

    code = "invalid_idempotency_key"

    def __init__(self, max_length: int) -> None:
        super().__init__(
            f"The Idempotency-Key header must be 1 to {max_length} printable characters.",
            details=[{"field": "Idempotency-Key", "reason": "empty, too long or not printable"}],
        )


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was already used for a request with another method, path or body."""

    code = "idempotency_key_reused"

    def __init__(self, key: str, method: str, path: str) -> None:
        super().__init__(
            f"The Idempotency-Key {key!r} was already used for a different request "
            f"({method} {path}); use a new key for a new request."
        )


class IdempotencyKeyInProgress(Conflict):
    """A request with the same Idempotency-Key has not finished yet; retry shortly."""

    code = "idempotency_key_in_progress"

    def __init__(self, key: str) -> None:
        super().__init__(f"A request with Idempotency-Key {key!r} is still in progress; retry shortly.")


# --- amounts (every domain takes money) ---------------------------------------------------------


class AmountTooPrecise(Unprocessable):
    """An amount has more decimals than its currency's minor unit (or is negative where it may not be)."""

    code = "amount_precision"


class AmountOutOfRange(Unprocessable):
    """An amount (given or computed) reaches 10^15; split the invoice or lower quantities or prices."""

    code = "amount_out_of_range"

    def __init__(self, field: str, what: str, value: Any, currency: str) -> None:
        reason = f"{what} would be {value:f} {currency}, and amounts must stay below 10^15"
        super().__init__(
            f"The invoice cannot be computed: {reason}; split it or lower the quantities or prices.",
            details=[{"field": field, "reason": reason}],
        )


class EngineRefused(Unprocessable):
    """The money engine refused a value a service did not map to a field; the code is the engine's."""

    def __init__(self, error: CalcError) -> None:
        super().__init__(str(error), details=[{"field": error.field or "body", "reason": error.message}])
        self.code = AmountOutOfRange.code if isinstance(error, NumberOutOfRange) else error.code


class TaxRulesBroken(Unprocessable):
    """The invoice or tax rate breaks EN 16931 VAT rules; `details` lists each rule broken."""

    code = "tax_rule_violation"


# --- the database (faults a client can only wait out or report) ---------------------------------


class DatabaseBusy(FakturError):
    """The database stayed locked or every connection was in use; retry after Retry-After."""

    status = 503
    code = "database_busy"
    retry_after_seconds = 1


class DatabaseUnavailable(FakturError):
    """The database cannot be reached; retry after Retry-After."""

    status = 503
    code = "database_unavailable"
    retry_after_seconds = 2


class DatabaseIOError(FakturError):
    """The database could not be read or written (disk I/O error); retry, or tell an operator."""

    status = 503
    code = "database_io_error"
    retry_after_seconds = 5


class DatabaseCorrupt(FakturError):
    """The database file is damaged; an operator must restore it from a backup."""

    status = 503
    code = "database_corrupt"
    retry_after_seconds = 60


class StorageFull(FakturError):
    """The disk holding the database is full; nothing was stored."""

    status = 507
    code = "storage_full"
