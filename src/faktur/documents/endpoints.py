"""HTTP endpoints of invoice documents: GET /v1/invoices/{id}/pdf, /ubl and /cii.

GETs run in a TransactionalRoute too: the first request for a document stores it, and that must commit.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from faktur.auth import CurrentPrincipal
from faktur.documents import service
from faktur.documents.profiles import Profile, Syntax
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute

router = APIRouter(prefix="/v1/invoices", tags=["documents"], route_class=TransactionalRoute)

ProfileQuery = Annotated[
    Profile,
    Query(description="en16931 (default), peppol (Peppol BIS Billing 3.0, UBL only) or xrechnung (3.0)"),
]
_RESPONSES = {
    200: {"description": "The document", "content": {"application/pdf": {}, "application/xml": {}}},
    304: {"description": "Not modified: If-None-Match named the stored document's ETag"},
}


def _response(request: Request, document: service.Document) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{document.filename}"',
        "Faktur-Document-Kind": document.kind.value,
    }
    if document.sha256 is not None:
        # Stored documents never change, so their SHA-256 is a strong ETag for conditional GETs.
        etag = f'"{document.sha256}"'
        headers["ETag"] = etag
        headers["Cache-Control"] = "private, no-cache"  # the client may keep it and revalidate
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
    else:
        headers["Cache-Control"] = "no-store"  # a draft changes with every edit
    return Response(document.content, media_type=document.content_type, headers=headers)


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses=_RESPONSES,
    summary="The invoice PDF (Factur-X with embedded CII for EU sellers; drafts marked DRAFT)",
)
def get_pdf(
    invoice_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
    embed: Annotated[
        bool | None,
        Query(
            description="true: Factur-X (422 if the invoice cannot be one); false: plain PDF; "
            "unset: Factur-X for finalized invoices of EU sellers when possible"
        ),
    ] = None,
) -> Response:
    document = service.get_pdf(session, principal.organisation_id, invoice_id, profile, embed, now)
    return _response(request, document)


@router.get(
    "/{invoice_id}/ubl",
    response_class=Response,
    responses=_RESPONSES,
    summary="The UBL 2.1 e-invoice of a finalized invoice",
)
def get_ubl(
    invoice_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
) -> Response:
    document = service.get_xml(session, principal.organisation_id, invoice_id, Syntax.UBL, profile, now)
    return _response(request, document)


@router.get(
    "/{invoice_id}/cii",
    response_class=Response,
    responses=_RESPONSES,
    summary="The UN/CEFACT CII (D16B) e-invoice of a finalized invoice",
)
def get_cii(
    invoice_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
) -> Response:
    document = service.get_xml(session, principal.organisation_id, invoice_id, Syntax.CII, profile, now)
    return _response(request, document)
