"""The secret of an invoice's hosted page: a random token, found by its SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 32 random bytes: 43 URL-safe characters, far beyond guessing.
TOKEN_BYTES = 32


def new_hosted_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hosted_token_sha256(token: str) -> str:
    """The lookup key: an index probe on a hash leaks nothing about how much of a guess was right."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_match(given: str, stored: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), stored.encode("utf-8"))
