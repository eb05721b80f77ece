"""create_app(): the FastAPI application with its routers, error handlers and database."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from faktur.balance.endpoints import router as balance_router
from faktur.billing import queue
from faktur.billing.endpoints import routers as billing_routers
from faktur.billing.recovery import RunRecovery
from faktur.config import Settings, get_settings
from faktur.credit_notes.endpoints import routers as credit_note_routers
from faktur.customers.endpoints import router as customers_router
from faktur.db import make_checkpointer, make_engine, make_read_engine, make_session_factory
from faktur.dialects import install_dialects
from faktur.documents.draft_cache import DraftPdfCache
from faktur.documents.endpoints import router as documents_router
from faktur.events.endpoints import router as events_router
from faktur.hosted import endpoints as hosted
from faktur.hosted import links
from faktur.http.body_limit import BodySizeLimit
from faktur.http.error_handlers import install_error_handlers
from faktur.http.openapi import install_openapi
from faktur.http.public_url import PublicBaseUrl
from faktur.http.security_headers import SecurityHeaders
from faktur.http.writer_turns import WriterTurns
from faktur.invoice_items.endpoints import router as invoice_items_router
from faktur.invoices.endpoints import router as invoices_router
from faktur.orders.endpoints import router as orders_router
from faktur.organisations.endpoints import router as organisation_router
from faktur.outbox import start_loop
from faktur.sending.endpoints import credit_note_router as credit_note_sending_router
from faktur.sending.endpoints import router as sending_router
from faktur.tax_rates.endpoints import router as tax_rates_router
from faktur.webhooks.endpoints import router as webhooks_router

DESCRIPTION = """
faktur creates, numbers, taxes, renders and tracks invoices.

* Authenticate with `Authorization: Bearer <api key>`.
* Every POST honours an `Idempotency-Key` header: the same key and body replay the stored
  response; the same key with another body is a 409.
* Amounts are decimal strings in the currency's minor units (`"119.00"`, `"1000"` for JPY);
  requests accept strings or JSON numbers, parsed exactly.
* Errors are `{"error": {"code", "message", "details"}}` with a stable `code`. Database faults
  are 503 (`database_busy`, `database_unavailable`, `database_io_error`, `database_corrupt`;
  retry after `Retry-After`, with the same Idempotency-Key) or 507 `storage_full` (nothing was
  stored).
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
            write_lock_timeout_ms=settings.sqlite_write_lock_timeout_ms,
            lock_timeout_ms=settings.postgres_lock_timeout_ms,
            idle_in_transaction_timeout_ms=settings.postgres_idle_in_transaction_timeout_ms,
        )
    session_factory = make_session_factory(engine)

    # Runs executed in-process (started over HTTP, or whose executor died) run on this thread;
    # queued runs are the `faktur worker` processes'.
    run_executor = RunRecovery(session_factory, settings.billing_run_lease_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Once, at startup: what exists now (modules, routes, compiled statements, some 250,000
        # objects) is long-lived, so the cyclic collector stops walking it (gc.freeze). Building
        # invoices in bulk (runs, gathers) triggers full collections, which then cost
        # milliseconds instead of a quarter of a billing chunk (docs/benchmarks.md).
        gc.freeze()
        checkpointer = make_checkpointer(engine)
        if checkpointer is not None:
            checkpointer.start()
        in_process = not queue.uses_workers(settings)
        if in_process:
            run_executor.start()
        # Webhooks, e-mails and the other outbox work are sent by this thread unless `faktur
        # worker`s send them (faktur.outbox).
        outbox_loop = (
            start_loop(session_factory, settings) if in_process and settings.outbox_in_process else None
        )
        try:
            yield
        finally:
            if outbox_loop is not None:
                outbox_loop.stop()
            if in_process:
                run_executor.stop()
            if checkpointer is not None:
                checkpointer.stop()

    # /docs (Swagger UI) is served from assets packaged with fastapi-offline, under
    # /static-offline-docs: it works without the internet and loads nothing from elsewhere. No
    # /redoc: its page loads Redocly's logo from their CDN.
    app = FastAPIOffline(
        redoc_url=None,
        title="faktur",
        version="0.1.0",
        description=DESCRIPTION,
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True},
        lifespan=lifespan,
    )
    app.state.settings = settings
    links.configure(settings.public_url, settings.host, settings.port)
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.run_executor = run_executor
    # GET and HEAD units of work (http.routing.Access.READ): WAL readers on SQLite.
    app.state.read_session_factory = make_session_factory(
        make_read_engine(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    )
    # SQLite: one writing request of this process at a time (the database has one writer).
    if engine.dialect.name == "sqlite":
        app.state.writer_turns = WriterTurns(settings.sqlite_write_lock_timeout_ms)
    # Large draft PDFs are laid out once per change, not once per request (issue 22).
    app.state.draft_pdfs = DraftPdfCache()
    install_error_handlers(app)
    # The outermost runs first: the headers wrap every answer, the 413 included.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(PublicBaseUrl, public_url=settings.public_url)
    # Requests are matched against the routers in this order: the busiest first.
    for router in (invoices_router, customers_router, organisation_router, tax_rates_router):
        app.include_router(router)
    app.include_router(orders_router)
    app.include_router(invoice_items_router)
    app.include_router(documents_router)
    app.include_router(sending_router)
    app.include_router(credit_note_sending_router)
    for router in (hosted.api_router, hosted.page_router, hosted.download_router):
        app.include_router(router)
    app.mount(*hosted.static_files())
    app.include_router(balance_router)
    for router in credit_note_routers:
        app.include_router(router)
    for router in billing_routers:
        app.include_router(router)
    app.include_router(webhooks_router)
    app.include_router(events_router)
    install_dialects(app)
    install_openapi(app)

    # async: answered on the event loop, so it answers even when every worker thread waits.
    @app.get("/health", tags=["meta"], summary="Liveness: answers without touching the database")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
