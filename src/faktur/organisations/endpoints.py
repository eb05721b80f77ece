"""HTTP endpoints of /v1/organisation: the seller details of the caller's organisation."""

from __future__ import annotations

from fastapi import APIRouter

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.organisations import service
from faktur.organisations.schemas import OrganisationOut, OrganisationUpdate

router = APIRouter(prefix="/v1/organisation", tags=["organisation"], route_class=TransactionalRoute)


@router.get("", response_model=OrganisationOut, summary="The caller's organisation (the seller)")
def get_organisation(principal: CurrentPrincipal) -> OrganisationOut:
    return OrganisationOut.model_validate(principal.organisation)


@router.patch("", response_model=OrganisationOut, summary="Update seller details and numbering")
def update_organisation(
    body: OrganisationUpdate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> OrganisationOut:
    organisation = service.update_organisation(session, principal.organisation, body, now)
    return OrganisationOut.model_validate(organisation)
