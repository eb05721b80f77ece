"""FakturError: the one exception type for expected failures, rendered by one JSON error shape.

Every error response is {"error": {"code", "message", "details"}}: `code` is stable snake_case for
programs, `message` is for a person, `details` lists field-level problems ({"field", "reason", ...}).
"""

from __future__ import annotations

from typing import Any


class FakturError(Exception):
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
    status = 404
    code = "not_found"


class Conflict(FakturError):
    status = 409
    code = "conflict"


class Unprocessable(FakturError):
    status = 422
    code = "validation_error"


class Unauthorized(FakturError):
    status = 401
    code = "unauthorized"
