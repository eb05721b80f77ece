"""The README's webhook verifier runs as written: the ```python block of its Webhooks section,
executed as it stands, accepts the requests a real receiver on loopback got from faktur and
refuses them changed, replayed late or checked with another secret."""

# ruff: noqa: F811  (test functions take the imported fixtures by name)
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from webhook_fixtures import app, receiver  # noqa: F401 - fixtures

from factories import create_customer

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify() -> Callable[..., bool]:
    section = README.read_text().split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md (Webhooks)", "exec"), namespace)
    return namespace["verify"]


def test_the_readme_verifier_accepts_real_deliveries_and_refuses_forgeries(client, tenant, receiver) -> None:
    verify = readme_verify()
    created = client.post("/v1/webhook-endpoints", json={"url": receiver.url}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    create_customer(client, tenant.headers)
    (request,) = receiver.wait_for(1)
    assert verify(secret, request.headers, request.body) is True
    assert verify(secret, request.headers, request.body.replace(b"Kunde", b"Kundx")) is False
    late = {**request.headers, "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 600)}
    assert verify(secret, late, request.body) is False
    rotated = client.post(
        f"/v1/webhook-endpoints/{created.json()['id']}/rotate-secret",
        json={"grace_period_hours": 1},
        headers=tenant.headers,
    ).json()["secret"]
    assert verify(rotated, request.headers, request.body) is False  # signed before the rotation
    create_customer(client, tenant.headers, name="Zweite AG")
    _, after = receiver.wait_for(2)
    # During the grace period both secrets sign: either verifies.
    assert verify(secret, after.headers, after.body) and verify(rotated, after.headers, after.body)
