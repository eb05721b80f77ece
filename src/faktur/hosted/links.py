"""Where the hosted page of an invoice is: its path, and its absolute URL under the public base URL.

The path names the invoice's organisation and the page's token: the token is unique only within
its organisation (the shard key, docs/scaling.md), and the page is found without a scan of all.

The base URL is FAKTUR_PUBLIC_URL when set; inside a request without it, the URL the request was
made to (set per request by faktur.http.public_url.PublicBaseUrl), so API responses carry links
their callers can open; outside a request (webhook payloads written by the outbox loop or a billing
run, e-mails), http://FAKTUR_HOST:FAKTUR_PORT (`configure`, called where the process starts).
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

from faktur.models import Invoice

HOSTED_PREFIX = "/hosted/invoices"
request_base_url: ContextVar[str | None] = ContextVar("faktur_public_base_url", default=None)


_process_base_url = ""


def configure(public_url: str | None, host: str, port: int) -> None:
    """The base URL of links made outside a request, for this process."""
    global _process_base_url
    _process_base_url = public_url or f"http://{host}:{port}"


def hosted_path(organisation_id: uuid.UUID, token: str) -> str:
    return f"{HOSTED_PREFIX}/{organisation_id}/{token}"


def hosted_url(organisation_id: uuid.UUID, token: str, base_url: str | None = None) -> str:
    base = base_url or request_base_url.get() or _process_base_url
    return f"{base.rstrip('/')}{hosted_path(organisation_id, token)}"


def hosted_url_of(invoice: Invoice) -> str | None:
    """The invoice's hosted page; None for drafts (nothing is issued yet)."""
    if invoice.status == "draft" or not invoice.hosted_token:
        return None
    return hosted_url(invoice.organisation_id, invoice.hosted_token)
