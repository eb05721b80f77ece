"""A Standard Webhooks verifier written from the specification, independent of faktur's signer.

Spec (standard-webhooks.md, "Verifying webhook authenticity"): the signed content is
`msg_id + "." + timestamp + "." + payload`; the key is the base64 decoding of the secret after
its `whsec_` prefix; a signature is `v1,` + base64(HMAC-SHA256(key, content)); the
`webhook-signature` header holds one or more space-delimited signatures, any of which may match;
receivers reject timestamps outside a tolerance (replay protection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


class Invalid(Exception):
    pass


def verify(
    secret: str, headers: dict[str, str], payload: bytes, tolerance: int = 300, now: float | None = None
) -> None:  # float-ok: epoch seconds
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower["webhook-id"]
    timestamp = lower["webhook-timestamp"]
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise Invalid("timestamp outside tolerance")
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + payload
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    for versioned in lower["webhook-signature"].split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return
    raise Invalid("no matching signature")
