"""HTTP endpoints of documents: GET /v1/invoices/{id}/pdf, /ubl and /cii, and the same of credit notes,
GET /v1/credit-notes/{id}/pdf, /ubl and /cii.

GETs run in a WritingRoute: the first request for a document stores it, and that must commit.
The UBL and CII routes of each kind share one handler, made for the syntax (`_invoice_xml`,
`_credit_note_xml`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
_Responses = dict[int | str, dict[str, Any]]
_BYTES = {"schema": {"type": "string", "format": "binary"}}
_NOT_MODIFIED = {"description": "Not modified: If-None-Match named the stored document's ETag"}
# A finalized invoice's documents are stored on first request, so a download can find the disk full.
_STORAGE_FULL = {"description": "The disk is full (`storage_full`): the document could not be stored"}
_NO_CREDIT_NOTE: _Responses = {
    404: {"description": "No such credit note in this organisation (`credit_note_not_found`)"}
}


def _responses(ok: str, media_type: str, refused: _Responses, unprocessable: str) -> _Responses:
    """The documented answers of a document route: `refused` is what the document's kind adds
    (409 for an invoice that is a draft, 404 for an unknown credit note)."""
    return {
        200: {"description": ok, "content": {media_type: _BYTES}},
        304: _NOT_MODIFIED,
        **refused,
        422: {"description": unprocessable},
        507: _STORAGE_FULL,
    }


def _pdf_responses(noun: str, ok: str, refused: _Responses) -> _Responses:
    return _responses(
        ok,
        "application/pdf",
        refused,
        f"embed=true and the {noun} cannot be Factur-X in the profile "
        "(`document_data_missing`, `currency_not_supported`), or invalid parameters",
    )


def _xml_responses(noun: str, ok: str, refused: _Responses) -> _Responses:
    return _responses(
        ok,
        "application/xml",
        refused,
        f"The {noun} lacks what the profile needs (`document_data_missing`, every field in `details`), "
        "a currency with more than two decimals (`currency_not_supported`), or invalid parameters",
    )


def _embed_query(noun: str, unset: str) -> Any:
    return Query(
        description=f"true: Factur-X (422 if the {noun} cannot be one); false: plain PDF; unset: {unset}"
    )


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


_INVOICE_XML_RESPONSES = _xml_responses(
    "invoice", "The e-invoice XML", {409: {"description": "A draft has no e-invoice (`invoice_not_final`)"}}
)
_CREDIT_NOTE_XML_RESPONSES = _xml_responses(
    "credit note", "The e-invoice XML of the credit note (type 381)", _NO_CREDIT_NOTE
)


@router.get(
    "/v1/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses=_pdf_responses(
        "invoice",
        "The PDF (Factur-X or plain: see Faktur-Document-Kind)",
        {409: {"description": "embed=true for a draft (`invoice_not_final`)"}},
    ),
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
        _embed_query("invoice", "Factur-X for finalized invoices of EU sellers when possible"),
    ] = None,
) -> Response:
    document = service.get_pdf(
        session, principal.organisation_id, invoice_id, profile, embed, now, request.app.state.draft_pdfs
    )
    return _response(request, document)


def _invoice_xml(syntax: Syntax) -> Callable[..., Response]:
    """The handler of GET /v1/invoices/{invoice_id}/ubl or /cii (`syntax`)."""

    def get_invoice_xml(
        invoice_id: uuid.UUID,
        request: Request,
        principal: CurrentPrincipal,
        session: SessionDep,
        now: NowDep,
        profile: ProfileQuery = Profile.EN16931,
    ) -> Response:
        document = service.get_xml(session, principal.organisation_id, invoice_id, syntax, profile, now)
        return _response(request, document)

    return get_invoice_xml


router.add_api_route(
    "/v1/invoices/{invoice_id}/ubl",
    _invoice_xml(Syntax.UBL),
    methods=["GET"],
    name="get_ubl",
    response_class=Response,
    responses=_INVOICE_XML_RESPONSES,
    summary="The UBL 2.1 e-invoice of a finalized invoice",
)
router.add_api_route(
    "/v1/invoices/{invoice_id}/cii",
    _invoice_xml(Syntax.CII),
    methods=["GET"],
    name="get_cii",
    response_class=Response,
    responses=_INVOICE_XML_RESPONSES,
    summary="The UN/CEFACT CII (D16B) e-invoice of a finalized invoice",
)


@router.get(
    "/v1/credit-notes/{credit_note_id}/pdf",
    response_class=Response,
    responses=_pdf_responses(
        "credit note", "The credit note PDF (Factur-X or plain: see Faktur-Document-Kind)", _NO_CREDIT_NOTE
    ),
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
        bool | None, _embed_query("credit note", "Factur-X for EU sellers when possible")
    ] = None,
) -> Response:
    document = service.get_credit_note_pdf(
        session, principal.organisation_id, credit_note_id, profile, embed, now
    )
    return _response(request, document)


def _credit_note_xml(syntax: Syntax) -> Callable[..., Response]:
    """The handler of GET /v1/credit-notes/{credit_note_id}/ubl or /cii (`syntax`)."""

    def get_credit_note_xml(
        credit_note_id: uuid.UUID,
        request: Request,
        principal: CurrentPrincipal,
        session: SessionDep,
        now: NowDep,
        profile: ProfileQuery = Profile.EN16931,
    ) -> Response:
        document = service.get_credit_note_xml(
            session, principal.organisation_id, credit_note_id, syntax, profile, now
        )
        return _response(request, document)

    return get_credit_note_xml


router.add_api_route(
    "/v1/credit-notes/{credit_note_id}/ubl",
    _credit_note_xml(Syntax.UBL),
    methods=["GET"],
    name="get_credit_note_ubl",
    response_class=Response,
    responses=_CREDIT_NOTE_XML_RESPONSES,
    summary="The UBL 2.1 CreditNote (type 381) naming the invoice it corrects (BT-25, BT-26)",
)
router.add_api_route(
    "/v1/credit-notes/{credit_note_id}/cii",
    _credit_note_xml(Syntax.CII),
    methods=["GET"],
    name="get_credit_note_cii",
    response_class=Response,
    responses=_CREDIT_NOTE_XML_RESPONSES,
    summary="The UN/CEFACT CII (D16B, TypeCode 381) naming the invoice it corrects (BT-25, BT-26)",
)
