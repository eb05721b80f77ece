"""HTTP endpoints of /v1/tax-rates."""

from __future__ import annotations

from fastapi import APIRouter

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute
from faktur.tax_rates import service
from faktur.tax_rates.schemas import TaxRateCreate, TaxRateOut

router = APIRouter(prefix="/v1/tax-rates", tags=["tax rates"], route_class=TransactionalRoute)


@router.post("", status_code=201, response_model=TaxRateOut, summary="Create a tax rate")
def create_tax_rate(
    body: TaxRateCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> TaxRateOut:
    return TaxRateOut.of(service.create_tax_rate(session, principal.organisation_id, body, now))


@router.get("", response_model=Page[TaxRateOut], summary="List tax rates, newest first")
def list_tax_rates(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[TaxRateOut]:
    rows, has_more = service.list_tax_rates(session, principal.organisation_id, limit, after(cursor))
    return page(rows, has_more, [TaxRateOut.of(r) for r in rows])
