"""create_app(): the FastAPI application with its routers, error handlers and database."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from faktur.billing.endpoints import routers as billing_routers
from faktur.config import Settings, get_settings
from faktur.customers.endpoints import router as customers_router
from faktur.db import make_engine, make_session_factory
from faktur.dialects import install_dialects
from faktur.documents.endpoints import router as documents_router
from faktur.http.body_limit import BodySizeLimit
from faktur.http.error_handlers import install_error_handlers
from faktur.http.security_headers import SecurityHeaders
from faktur.invoice_items.endpoints import router as invoice_items_router
from faktur.invoices.endpoints import router as invoices_router
from faktur.orders.endpoints import router as orders_router
from faktur.organisations.endpoints import router as organisation_router
from faktur.tax_rates.endpoints import router as tax_rates_router

DESCRIPTION = """
faktur creates, numbers, taxes, renders and tracks invoices.

* Authenticate with `Authorization: Bearer <api key>`.
* Every POST honours an `Idempotency-Key` header: the same key and body replay the stored
  response; the same key with another body is a 409.
* Amounts are decimal strings in the currency's minor units (`"119.00"`, `"1000"` for JPY);
  requests accept strings or JSON numbers, parsed exactly.
* Errors are `{"error": {"code", "message", "details"}}` with a stable `code`.
* A request body larger than the server's limit (`FAKTUR_MAX_REQUEST_BODY_BYTES`, 10 MiB by
  default) is refused with 413 `payload_too_large` before it is read. Text anywhere in a request
  (values and keys) must be text XML can carry: control characters other than tab, line feed and
  carriage return, U+FFFE, U+FFFF and lone surrogates are refused with 422 naming the field.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    if engine is None:
        engine = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    app = FastAPI(title="faktur", version="0.1.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    # The outermost runs first: the headers wrap every answer, the 413 included.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(SecurityHeaders)
    # Requests are matched against the routers in this order: the busiest first.
    for router in (invoices_router, customers_router, organisation_router, tax_rates_router):
        app.include_router(router)
    app.include_router(orders_router)
    app.include_router(invoice_items_router)
    app.include_router(documents_router)
    for router in billing_routers:
        app.include_router(router)
    install_dialects(app)

    @app.get("/health", tags=["meta"], summary="Liveness: answers without touching the database")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
