"""Where the hosted page of an invoice is: its path, and its absolute URL under the public base URL.

The base URL is FAKTUR_PUBLIC_URL when set; inside a request without it, the URL the request was
made to (set per request by `PublicBaseUrl`), so API responses carry links their callers can open.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

from faktur.models import Invoice

HOSTED_PREFIX = "/hosted/invoices"
_base_url: ContextVar[str | None] = ContextVar("faktur_public_base_url", default=None)


def hosted_path(token: str) -> str:
    return f"{HOSTED_PREFIX}/{token}"


def hosted_url(token: str, base_url: str | None = None) -> str:
    base = base_url or _base_url.get() or ""
    return f"{base.rstrip('/')}{hosted_path(token)}"


def hosted_url_of(invoice: Invoice) -> str | None:
    """The invoice's hosted page; None for drafts (nothing is issued yet)."""
    if invoice.status == "draft" or not invoice.hosted_token:
        return None
    return hosted_url(invoice.hosted_token)


class PublicBaseUrl:
    """ASGI middleware: the base URL of hosted links for the request it wraps."""

    def __init__(self, app: ASGIApp, public_url: str | None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        base = self.public_url
        if not base:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            server = scope.get("server") or ("127.0.0.1", 80)
            base = f"{scope.get('scheme', 'http')}://{host or f'{server[0]}:{server[1]}'}"
        token = _base_url.set(base)
        try:
            await self.app(scope, receive, send)
        finally:
            _base_url.reset(token)
