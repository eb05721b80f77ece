"""Standard Webhooks signatures (https://www.standardwebhooks.com): pure functions, no I/O.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is
`v1,<base64 HMAC-SHA256>` keyed with the base64-decoded part of the `whsec_...` secret. Several
signatures (during a secret rotation) are sent space-separated in one `webhook-signature` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
# Receivers should refuse timestamps further than this from their clock (replays).
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The payload does not verify: why, for a person."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise SignatureError("The secret is not whsec_ followed by base64.") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` entry."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(signing_secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given (newest first)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in signing_secrets),
    }


def verify(
    secret: str,
    received: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless one of the `v1` signatures in `received` (header names in lower
    case) signs `body` with `secret` and the timestamp is within the tolerance of `now`."""
    message_id = received.get("webhook-id")
    stamp = received.get("webhook-timestamp")
    signatures = received.get("webhook-signature")
    if not message_id or not stamp or not signatures:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are all needed.")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer (seconds since the epoch).") from exc
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError(
            f"webhook-timestamp is {now - timestamp} s from now; more than {tolerance_seconds} s (a replay?)."
        )
    expected = sign(secret, message_id, timestamp, body)
    for entry in signatures.split():
        if entry.startswith("v1,") and hmac.compare_digest(entry, expected):
            return
    raise SignatureError("No v1 signature matches: another secret, or the body was changed.")
