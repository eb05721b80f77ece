"""HTTP endpoints of /v1/tax-rates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import Page
from faktur.http.routing import TransactionalRoute
from faktur.paging import Cursor
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
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[TaxRateOut]:
    after = Cursor.decode(cursor) if cursor else None
    rows, has_more = service.list_tax_rates(session, principal.organisation_id, limit, after)
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode() if has_more else None
    return Page(data=[TaxRateOut.of(r) for r in rows], has_more=has_more, next_cursor=next_cursor)
