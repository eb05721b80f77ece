"""The errors of webhook endpoints and events, one class per code."""

from __future__ import annotations

import uuid

from faktur.errors import NotFound, Unprocessable


class WebhookEndpointNotFound(NotFound):
    """No webhook endpoint with this id in the caller's organisation."""

    code = "webhook_endpoint_not_found"

    def __init__(self, endpoint_id: uuid.UUID) -> None:
        super().__init__(f"No webhook endpoint {endpoint_id} in this organisation.")


class WebhookUrlInvalid(Unprocessable):
    """The webhook URL cannot be parsed or has no host."""

    code = "webhook_url_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The webhook URL is not usable: {reason}.", details=[{"field": "url", "reason": reason}]
        )


class WebhookUrlNotHttps(Unprocessable):
    """The webhook URL is not https (plain http only for localhost)."""

    code = "webhook_url_not_https"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"Webhook URLs must use https ({url!r} does not); plain http is allowed for localhost only.",
            details=[{"field": "url", "reason": "not https"}],
        )


class WebhookUrlPrivate(Unprocessable):
    """The webhook URL's host resolves to a private, loopback or link-local address."""

    code = "webhook_url_private"

    def __init__(self, host: str, address: str) -> None:
        super().__init__(
            f"{host} resolves to {address}, a private, loopback or link-local address; webhooks are "
            "sent to public addresses only (set FAKTUR_WEBHOOK_ALLOW_PRIVATE_URLS=true to allow them).",
            details=[{"field": "url", "reason": "private address", "address": address}],
        )


class UnknownEventType(Unprocessable):
    """An endpoint subscribes to an event type faktur does not send."""

    code = "unknown_event_type"

    def __init__(self, unknown: list[str], known: tuple[str, ...]) -> None:
        super().__init__(
            f"Unknown event type(s) {', '.join(unknown)}; known types: {', '.join(known)}.",
            details=[{"field": "enabled_events", "reason": f"unknown event type {t}"} for t in unknown],
        )
