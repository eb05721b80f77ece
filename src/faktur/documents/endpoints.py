"""HTTP endpoints of documents: GET /v1/invoices/{id}/pdf, /ubl and /cii, and the same of credit notes,
GET /v1/credit-notes/{id}/pdf, /ubl and /cii.

GETs run in a WritingRoute: the first request for a document stores it, and that must commit.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from faktur.auth import CurrentPrincipal
from faktur.documents import service
from faktur.documents.profiles import Profile, Syntax
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import WritingRoute

# No prefix: the router serves the documents of invoices and of credit notes.
router = APIRouter(tags=["documents"], route_class=WritingRoute)

ProfileQuery = Annotated[
    Profile,
    Query(description="en16931 (default), peppol (Peppol BIS Billing 3.0, UBL only) or xrechnung (3.0)"),
]
_BYTES = {"schema": {"type": "string", "format": "binary"}}
_NOT_MODIFIED = {"description": "Not modified: If-None-Match named the stored document's ETag"}
# A finalized invoice's documents are stored on first request, so a download can find the disk full.
_STORAGE_FULL = {"description": "The disk is full (`storage_full`): the document could not be stored"}
_PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The PDF (Factur-X or plain: see Faktur-Document-Kind)",
        "content": {"application/pdf": _BYTES},
    },
    304: _NOT_MODIFIED,
    409: {"description": "embed=true for a draft (`invoice_not_final`)"},
    422: {
        "description": "embed=true and the invoice cannot be Factur-X in the profile "
        "(`document_data_missing`, `currency_not_supported`), or invalid parameters"
    },
    507: _STORAGE_FULL,
}
_XML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The e-invoice XML", "content": {"application/xml": _BYTES}},
    304: _NOT_MODIFIED,
    409: {"description": "A draft has no e-invoice (`invoice_not_final`)"},
    422: {
        "description": "The invoice lacks what the profile needs (`document_data_missing`, every field in "
        "`details`), a currency with more than two decimals (`currency_not_supported`), or invalid parameters"
    },
    507: _STORAGE_FULL,
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
    "/v1/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses=_PDF_RESPONSES,
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
    document = service.get_pdf(
        session, principal.organisation_id, invoice_id, profile, embed, now, request.app.state.draft_pdfs
    )
    return _response(request, document)


@router.get(
    "/v1/invoices/{invoice_id}/ubl",
    response_class=Response,
    responses=_XML_RESPONSES,
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
    "/v1/invoices/{invoice_id}/cii",
    response_class=Response,
    responses=_XML_RESPONSES,
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


_CREDIT_NOTE_PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The credit note PDF (Factur-X or plain: see Faktur-Document-Kind)",
        "content": {"application/pdf": _BYTES},
    },
    304: _NOT_MODIFIED,
    404: {"description": "No such credit note in this organisation (`credit_note_not_found`)"},
    422: {
        "description": "embed=true and the credit note cannot be Factur-X in the profile "
        "(`document_data_missing`, `currency_not_supported`), or invalid parameters"
    },
    507: _STORAGE_FULL,
}
_CREDIT_NOTE_XML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The e-invoice XML of the credit note (type 381)",
        "content": {"application/xml": _BYTES},
    },
    304: _NOT_MODIFIED,
    404: {"description": "No such credit note in this organisation (`credit_note_not_found`)"},
    422: {
        "description": "The credit note lacks what the profile needs (`document_data_missing`, every field "
        "in `details`), a currency with more than two decimals (`currency_not_supported`), or invalid "
        "parameters"
    },
    507: _STORAGE_FULL,
}


@router.get(
    "/v1/credit-notes/{credit_note_id}/pdf",
    response_class=Response,
    responses=_CREDIT_NOTE_PDF_RESPONSES,
    summary="The credit note PDF (Factur-X with embedded CII for EU sellers)",
    description="Titled Credit note, Rechnungskorrektur (Stornorechnung for a full cancellation) or Avoir "
    "in the buyer's language; names the invoice it corrects. Rendered at the first request, stored "
    "with its SHA-256 (the ETag) and served byte for byte ever after.",
)
def get_credit_note_pdf(
    credit_note_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
    embed: Annotated[
        bool | None,
        Query(
            description="true: Factur-X (422 if the credit note cannot be one); false: plain PDF; "
            "unset: Factur-X for EU sellers when possible"
        ),
    ] = None,
) -> Response:
    document = service.get_credit_note_pdf(
        session, principal.organisation_id, credit_note_id, profile, embed, now
    )
    return _response(request, document)


@router.get(
    "/v1/credit-notes/{credit_note_id}/ubl",
    response_class=Response,
    responses=_CREDIT_NOTE_XML_RESPONSES,
    summary="The UBL 2.1 CreditNote (type 381) naming the invoice it corrects (BT-25, BT-26)",
)
def get_credit_note_ubl(
    credit_note_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
) -> Response:
    document = service.get_credit_note_xml(
        session, principal.organisation_id, credit_note_id, Syntax.UBL, profile, now
    )
    return _response(request, document)


@router.get(
    "/v1/credit-notes/{credit_note_id}/cii",
    response_class=Response,
    responses=_CREDIT_NOTE_XML_RESPONSES,
    summary="The UN/CEFACT CII (D16B, TypeCode 381) naming the invoice it corrects (BT-25, BT-26)",
)
def get_credit_note_cii(
    credit_note_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    profile: ProfileQuery = Profile.EN16931,
) -> Response:
    document = service.get_credit_note_xml(
        session, principal.organisation_id, credit_note_id, Syntax.CII, profile, now
    )
    return _response(request, document)
