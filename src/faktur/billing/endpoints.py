"""HTTP endpoints of period invoices (/v1/contracts/{id}/...) and billing runs (/v1/billing-runs)."""

from __future__ import annotations

import uuid
from datetime import date

import pydantic_core
from fastapi import APIRouter, BackgroundTasks, Body, Request, Response

from faktur.auth import CurrentPrincipal, Principal
from faktur.billing import leases, queue, reports, runs, service
from faktur.billing.presenters import present_run
from faktur.billing.schemas import (
    BillingRunCreate,
    BillingRunOut,
    ContractUsageOut,
    PeriodInvoiceCreate,
)
from faktur.context import Actor
from faktur.contracts.endpoints import router as contracts_router
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.invoices.presenters import present_invoice, present_preview
from faktur.invoices.schemas import InvoiceOut, InvoicePreviewOut
from faktur.invoices.snapshots import customer_snapshot
from faktur.usage.endpoints import events_router, metrics_router

contract_billing_router = APIRouter(
    prefix="/v1/contracts", tags=["contracts"], route_class=TransactionalRoute
)
runs_router = APIRouter(prefix="/v1/billing-runs", tags=["billing runs"], route_class=TransactionalRoute)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.organisation, principal.actor)


@contract_billing_router.post(
    "/{contract_id}/invoices",
    status_code=201,
    response_model=InvoiceOut,
    summary="Invoice one period of a contract (default: the last completed period)",
)
def invoice_period(
    contract_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: PeriodInvoiceCreate | None = Body(None),
) -> InvoiceOut:
    body = body or PeriodInvoiceCreate()
    invoice = service.invoice_contract_period(
        session,
        _actor(principal),
        contract_id,
        body.period_start,
        body.period_end,
        now,
        bill_for_date=body.bill_for_date,
        check_duplicate=body.check_duplicate,
        finalize=body.finalize,
    )
    return present_invoice(invoice)


@contract_billing_router.get(
    "/{contract_id}/upcoming-invoice",
    response_model=InvoicePreviewOut,
    summary="Preview the running period's invoice without storing anything",
)
def upcoming_invoice(
    contract_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> InvoicePreviewOut:
    _period, customer, computed = service.preview_running_period(
        session, _actor(principal), contract_id, now.date()
    )
    return present_preview(customer, computed, customer_snapshot(customer))


@contract_billing_router.get(
    "/{contract_id}/usage",
    response_model=ContractUsageOut,
    summary="Usage of a period (default: the running one) and late events of invoiced periods",
)
def contract_usage(
    contract_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    on: date | None = None,
) -> ContractUsageOut:
    return reports.contract_usage(session, principal.organisation_id, contract_id, on or now.date())


def _run_out(
    request: Request, session: SessionDep, organisation_id: uuid.UUID, run_id: uuid.UUID
) -> BillingRunOut:
    return present_run(session, organisation_id, run_id)


@runs_router.post(
    "",
    status_code=202,
    response_model=BillingRunOut,
    summary="Start a billing run (or resume the unfinished one for the same as_of); poll GET for progress",
    description="202: the run was started, or resumed because nobody executed it. 200: the run for "
    "this `as_of` is already running (another executor holds its lease: `executor`, `heartbeat_at`); "
    "nothing else was started. `as_of` lies between 1970-01-01 and today (UTC), else 422 "
    "`as_of_out_of_range`.",
    responses={200: {"model": BillingRunOut, "description": "Already running; nothing else was started"}},
)
def start_billing_run(
    body: BillingRunCreate,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    background: BackgroundTasks,
) -> Response:
    runs.check_as_of(body.as_of, now.date())
    organisation_id = principal.organisation_id
    run = runs.start_run(session, organisation_id, body.as_of, now)
    settings = request.app.state.settings
    queued = queue.uses_workers(settings)
    executor = leases.QUEUE if queued else leases.new_executor("serve")
    lease = leases.Lease(executor, settings.billing_run_lease_seconds)
    # The lease is this request's until its transaction commits; the run starts after that (its
    # chunks commit on their own). Nothing is started while another executor holds the lease.
    claimed = leases.claim(session, organisation_id, run.id, lease)
    session.refresh(run)
    out = _run_out(request, session, organisation_id, run.id)
    if claimed and queued:
        background.add_task(
            queue.dispatch,
            request.app.state.session_factory,
            settings.database_url,
            organisation_id,
            run.id,
            now,
            settings.billing_run_lease_seconds,
        )
    elif claimed:
        background.add_task(request.app.state.run_executor.submit, organisation_id, run.id, now, lease)
    response = Response(
        pydantic_core.to_json(out), status_code=202 if claimed else 200, media_type="application/json"
    )
    response.background = background
    return response


@runs_router.get(
    "/{run_id}", response_model=BillingRunOut, summary="A billing run's status, counts and failures"
)
def get_billing_run(
    run_id: uuid.UUID, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> BillingRunOut:
    return _run_out(request, session, principal.organisation_id, run_id)


# Everything the recurring-billing packages serve, for create_app to include.
routers = (contracts_router, metrics_router, events_router, contract_billing_router, runs_router)
