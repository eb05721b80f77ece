"""`faktur webhooks test URL` sends a signed event a spec verifier accepts; `faktur webhooks verify`
accepts a genuine payload and refuses a changed one or an old timestamp."""

# ruff: noqa: F811  (test functions take the imported fixtures by name)
from __future__ import annotations

import time

from standard_webhooks_verifier import verify
from typer.testing import CliRunner
from webhook_fixtures import receiver  # noqa: F401 - fixtures

from faktur.cli import app
from faktur.webhooks import signing


def test_webhooks_test_sends_a_signed_event(receiver) -> None:
    secret = signing.new_secret()
    result = CliRunner().invoke(app, ["webhooks", "test", receiver.url, "--secret", secret])
    assert result.exit_code == 0, result.output
    assert "HTTP 204" in result.output
    (request,) = receiver.wait_for(1)
    verify(secret, request.headers, request.body)
    assert request.event["type"] == "webhook.test"
    assert f"webhook-id: {request.headers['webhook-id']}" in result.output


def test_webhooks_test_reports_a_failing_receiver(receiver) -> None:
    receiver.mode = "error"
    result = CliRunner().invoke(app, ["webhooks", "test", receiver.url])
    assert result.exit_code == 1 and "HTTP 500" in result.output
    receiver.stop()
    refused = CliRunner().invoke(app, ["webhooks", "test", receiver.url])
    assert refused.exit_code == 1 and "no answer" in refused.output
    bad = CliRunner().invoke(app, ["webhooks", "test", receiver.url, "--secret", "whsec_!!"])
    assert bad.exit_code == 2


def test_webhooks_verify(tmp_path) -> None:
    secret = signing.new_secret()
    body = b'{"id":"evt","type":"invoice.paid"}'
    now = int(time.time())
    headers = signing.headers([secret], "evt", now, body)
    path = tmp_path / "body.json"
    path.write_bytes(body)
    args = [
        "webhooks",
        "verify",
        "--secret",
        secret,
        "--id",
        "evt",
        "--signature",
        headers["webhook-signature"],
    ]
    ok = CliRunner().invoke(app, [*args, "--timestamp", str(now), str(path)])
    assert ok.exit_code == 0 and "valid" in ok.output
    piped = CliRunner().invoke(app, [*args, "--timestamp", str(now)], input=body)
    assert piped.exit_code == 0
    path.write_bytes(body.replace(b"paid", b"void"))
    changed = CliRunner().invoke(app, [*args, "--timestamp", str(now), str(path)])
    assert changed.exit_code == 1 and "invalid" in changed.output
    old = signing.headers([secret], "evt", now - 3600, body)
    path.write_bytes(body)
    stale = CliRunner().invoke(
        app,
        [
            "webhooks",
            "verify",
            "--secret",
            secret,
            "--id",
            "evt",
            "--signature",
            old["webhook-signature"],
            "--timestamp",
            str(now - 3600),
            str(path),
        ],
    )
    assert stale.exit_code == 1 and "replay" in stale.output
