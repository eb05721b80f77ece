"""One signed HTTP POST of a webhook, with a deadline; never follows redirects."""

from __future__ import annotations

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from faktur.errors import FakturError
from faktur.webhooks.urls import check_url

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


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,  # float-ok: seconds
    allow_private: bool,
) -> Answer:
    """POST `body` to `url`; the receiver has `timeout` seconds to connect and answer."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # Checked again at every send: a name may resolve elsewhere than when it was registered.
        check_url(url, allow_private=allow_private)
    except FakturError as refused:
        return Answer(None, elapsed_ms(), None, refused.message[:300])
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
        )
        response = connection.getresponse()
        kept = response.read(KEEP_BYTES)
        return Answer(response.status, elapsed_ms(), kept.decode("utf-8", "replace"), None)
    except TimeoutError:
        return Answer(None, elapsed_ms(), None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, elapsed_ms(), None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
