"""The base URL of the links a response carries (hosted invoice pages), per request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from faktur.hosted.links import request_base_url


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
        token = request_base_url.set(base)
        try:
            await self.app(scope, receive, send)
        finally:
            request_base_url.reset(token)
