"""One signed HTTP POST of a webhook, with a deadline; never follows redirects. It connects to an
address the URL's check resolved (faktur.webhooks.urls.checked_addresses), never resolving the host
again, and sends the host's name as Host and TLS server name (the certificate is checked against it)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from faktur.errors import FakturError
from faktur.webhooks.urls import Resolver, checked_addresses, resolve

# The delivery log keeps this much of each answer.
KEEP_BYTES = 1024
USER_AGENT = "faktur-webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    response_ms: int
    body: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to `host` (its Host header) over a connection to `addresses`, tried in order until
    `ends_at` (time.monotonic)."""

    def __init__(
        self,
        host: str,
        port: int | None,
        addresses: list[str],
        ends_at: float,  # float-ok: seconds
    ) -> None:
        # No timeout for http.client: it uses one only in the connect() this class replaces.
        super().__init__(host, port)
        self.addresses = addresses
        self.ends_at = ends_at

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.ends_at)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `host` (Host header, TLS server name, certificate) over a connection to `addresses`."""

    def __init__(
        self,
        host: str,
        port: int | None,
        addresses: list[str],
        ends_at: float,  # float-ok: seconds
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, context=context)
        self.addresses = addresses
        self.ends_at = ends_at
        self.context = context

    def connect(self) -> None:
        # Set before the handshake too, so that the send's deadline can end a dripping one.
        sock = self.sock = _connect(self.addresses, self.port, self.ends_at)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


class _Deadline:
    """Ends a send still running `seconds` after it started by shutting its socket down: socket
    timeouts count per read, so a receiver answering a byte at a time would otherwise hold the
    send (and the outbox pass waiting for it) for as long as it likes."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:  # float-ok: seconds
        self.connection = connection
        self.passed = False
        self._timer = threading.Timer(seconds, self._end)
        self._timer.daemon = True
        self._timer.start()

    def _end(self) -> None:
        self.passed = True
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _connect(addresses: list[str], port: int, ends_at: float) -> socket.socket:  # float-ok: seconds
    """A connection to the first of `addresses` that accepts one before `ends_at`: the addresses
    share the send's time, so a host with several that do not answer takes it once, not once each."""
    error: OSError | None = None
    for address in addresses:
        remaining = ends_at - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no connection in time")
        try:
            return socket.create_connection((address, port), remaining)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,  # float-ok: seconds
    allow_private: bool,
    resolver: Resolver = resolve,
) -> Answer:
    """POST `body` to `url`; the receiver has `timeout` seconds in all to connect and answer (its
    status; what of its body came by then is kept)."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # Checked again at every send: a name may resolve elsewhere than when it was registered.
        addresses = checked_addresses(url, allow_private=allow_private, resolver=resolver)
    except FakturError as refused:
        return Answer(None, elapsed_ms(), None, refused.message[:300])
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not addresses:
        return Answer(None, elapsed_ms(), None, f"{host} does not resolve")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection: http.client.HTTPConnection
    ends_at = started + timeout
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            host, parts.port, addresses, ends_at, ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(host, parts.port, addresses, ends_at)
    deadline = _Deadline(connection, timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
        )
        response = connection.getresponse()
        try:
            kept = response.read(KEEP_BYTES)
        except (OSError, http.client.HTTPException):
            if not deadline.passed:
                raise
            kept = b""  # the status came in time; the rest of the body did not
        return Answer(response.status, elapsed_ms(), kept.decode("utf-8", "replace"), None)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.passed or isinstance(exc, TimeoutError):
            return Answer(None, elapsed_ms(), None, f"no answer within {timeout:g} s")
        return Answer(None, elapsed_ms(), None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        deadline.cancel()
        connection.close()
