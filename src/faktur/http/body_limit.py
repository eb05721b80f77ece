"""The request body limit, enforced before anything reads the body (authentication included).

A declared Content-Length above the limit is answered with 413 at once, without reading a byte
of the body; a body without one (chunked) is counted as it arrives and refused as soon as it
passes the limit. So an unauthenticated client cannot make the server hold more than the limit
in memory per request.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faktur.errors import RequestBodyTooLarge
from faktur.http.error_handlers import render_error


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = render_error(Request(scope), RequestBodyTooLarge(self.max_bytes))
            # The unread body is left on the connection; the server closes it after the answer.
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route that reads the body: the error handlers answer it.
                    raise HTTPException(413, RequestBodyTooLarge(self.max_bytes).message)
            return message

        await self.app(scope, receive_within_limit, send)
