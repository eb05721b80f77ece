"""The one place where exceptions become HTTP error responses.

Dialects (compatibility APIs) register their own renderer for their path prefix, so their
clients see the error shape they were written for; everything else gets faktur's shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from faktur.calc.errors import CalcError
from faktur.database_faults import database_fault
from faktur.errors import (
    ConcurrentWriteConflict,
    EngineRefused,
    FakturError,
    Forbidden,
    HttpError,
    InternalError,
    InvalidRequest,
    MalformedJson,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from faktur.field_paths import field_path

logger = logging.getLogger("faktur")

ErrorRenderer = Callable[[Request, FakturError, RequestValidationError | None], JSONResponse]

_HTTP_ERRORS: dict[int, type[FakturError]] = {
    400: FakturError,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def validation_to_error(exc: RequestValidationError) -> FakturError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        return MalformedJson(f"The request body is not valid JSON: {reason}".strip())
    details = [
        {"field": field_path(e.get("loc", ())), "reason": e.get("msg", "invalid"), "type": e.get("type")}
        for e in errors
    ]
    return InvalidRequest(details)


def _native(
    _request: Request, error: FakturError, _validation: RequestValidationError | None
) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status)


def _renderer_for(request: Request) -> ErrorRenderer:
    for prefix, renderer in getattr(request.app.state, "error_renderers", []):
        if request.url.path.startswith(prefix):
            return renderer
    return _native


def render_error(request: Request, error: FakturError) -> JSONResponse:
    """An error in the shape the request's API expects (faktur's or its dialect's)."""
    return _renderer_for(request)(request, error, None)


def install_error_handlers(app: FastAPI) -> None:
    app.state.error_renderers = []

    def render(
        request: Request, error: FakturError, validation: RequestValidationError | None = None
    ) -> JSONResponse:
        response = _renderer_for(request)(request, error, validation)
        if error.retry_after_seconds is not None:
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.exception_handler(FakturError)
    def _faktur(request: Request, exc: FakturError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return render(request, validation_to_error(exc), exc)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _HTTP_ERRORS.get(exc.status_code)
        code = kind.code if kind is not None else HttpError.code
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"No endpoint {request.method} {request.url.path}."
        error: FakturError
        if exc.status_code == 400 and message == "There was an error parsing the body":
            error = MalformedJson("The request body could not be parsed as JSON.")
        elif kind is not None:
            error = kind(message)
        else:
            error = HttpError(message, exc.status_code)
        response = render(request, error)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(CalcError)
    def _calc(request: Request, exc: CalcError) -> JSONResponse:
        # Services map the engine's errors to fields; this catches one raised past them (an
        # amount that only overflows once summed or converted), so it is a 422, never a 500.
        logger.warning("engine error outside a service mapping on %s: %s", request.url.path, exc)
        return render(request, EngineRefused(exc))

    @app.exception_handler(IntegrityError)
    def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        logger.warning("integrity error on %s: %s", request.url.path, exc.orig)
        return render(request, ConcurrentWriteConflict())

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)
    def _database(request: Request, exc: Exception) -> JSONResponse:
        # A lock held too long, a full disk, an I/O error, a lost connection: the client gets the
        # fault's code and message (503, 507), the log the traceback. Anything else is a bug.
        fault = database_fault(exc)
        if fault is None:
            return _unexpected(request, exc)
        logger.error("database fault %s on %s %s", fault.code, request.method, request.url.path, exc_info=exc)
        return render(request, fault)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return render(request, InternalError())
