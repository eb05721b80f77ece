"""HTTP endpoints of the hosted invoice page (no API key: the token is the credential) and of
POST /v1/invoices/{id}/hosted-link/rotate."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from faktur.auth import CurrentPrincipal
from faktur.documents.service import Document
from faktur.hosted import service
from faktur.hosted.errors import HostedDocumentNotAvailable, HostedPageNotFound
from faktur.hosted.labels import reader_language
from faktur.hosted.links import HOSTED_PREFIX
from faktur.hosted.page import HOSTED_HEADERS, STATIC_PATH, render_invoice_page, render_not_found_page
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute, WritingRoute
from faktur.invoices.presenters import present_invoice
from faktur.invoices.schemas import InvoiceOut

# The page and its downloads are for people with a link, not an API: they stay out of OpenAPI.
page_router = APIRouter(prefix=HOSTED_PREFIX, route_class=TransactionalRoute, include_in_schema=False)
# Documents are stored on their first request, so their GETs write.
download_router = APIRouter(prefix=HOSTED_PREFIX, route_class=WritingRoute, include_in_schema=False)
api_router = APIRouter(prefix="/v1/invoices", tags=["invoices"], route_class=TransactionalRoute)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Wrong or rotated token, or a draft: the not-found page"}
}
_HTML: dict[int | str, dict[str, Any]] = {
    200: {"description": "The invoice page", "content": {"text/html": {}}},
    **_NOT_FOUND,
}


def _not_found(request: Request) -> HTMLResponse:
    """The not-found page in the reader's language (no invoice tells us which)."""
    language = reader_language(request.headers.get("accept-language", ""))
    return HTMLResponse(render_not_found_page(language), status_code=404, headers=HOSTED_HEADERS)


@page_router.get(
    "/{organisation_id}/{token}",
    response_class=HTMLResponse,
    responses=_HTML,
    summary="The hosted page of an issued invoice, in the customer's language",
)
def hosted_page(organisation_id: str, token: str, request: Request, session: SessionDep) -> Response:
    try:
        page = service.hosted_invoice(session, organisation_id, token)
    except HostedPageNotFound:
        return _not_found(request)
    return HTMLResponse(render_invoice_page(page, token), headers=HOSTED_HEADERS)


@page_router.get(
    "/{token}", response_class=HTMLResponse, responses=_NOT_FOUND, summary="A link without its organisation"
)
def link_without_organisation(token: str, request: Request) -> Response:
    """Links made before the path named the organisation (faktur.hosted.links) open the not-found
    page, as after a rotation: the invoice's current link is in its API representation."""
    return _not_found(request)


def _download(request: Request, fetch: Callable[[], Document]) -> Response:
    try:
        document = fetch()
    except (HostedPageNotFound, HostedDocumentNotAvailable):
        return _not_found(request)
    headers = {
        **HOSTED_HEADERS,
        "Content-Disposition": f'attachment; filename="{document.filename}"',
        "ETag": f'"{document.sha256}"',
    }
    return Response(document.content, media_type=document.content_type, headers=headers)


_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The stored document", "content": {"application/octet-stream": {}}},
    **_NOT_FOUND,
}


@download_router.get(
    "/{organisation_id}/{token}/pdf",
    response_class=Response,
    responses=_BYTES,
    summary="The PDF of a hosted invoice",
)
def hosted_pdf(
    organisation_id: str, token: str, request: Request, session: SessionDep, now: NowDep
) -> Response:
    return _download(request, lambda: service.hosted_pdf(session, organisation_id, token, now))


@download_router.get(
    "/{organisation_id}/{token}/xml",
    response_class=Response,
    responses=_BYTES,
    summary="The UBL e-invoice of a hosted invoice (in the customer's e-invoice profile)",
)
def hosted_xml(
    organisation_id: str, token: str, request: Request, session: SessionDep, now: NowDep
) -> Response:
    return _download(request, lambda: service.hosted_xml(session, organisation_id, token, now))


@api_router.post(
    "/{invoice_id}/hosted-link/rotate",
    response_model=InvoiceOut,
    summary="Replace the invoice's hosted page link: links handed out before open a 404 page",
)
def rotate_hosted_link(invoice_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> InvoiceOut:
    return present_invoice(service.rotate_hosted_link(session, principal.organisation_id, invoice_id))


def static_files() -> tuple[str, StaticFiles]:
    """The page's style sheet, served by faktur itself."""
    return STATIC_PATH, StaticFiles(directory=Path(__file__).parent / "static")
