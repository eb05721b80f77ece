"""`faktur webhooks test URL` and `faktur webhooks verify`: for people writing a receiver."""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from faktur.webhooks import sender, signing

webhooks_app = typer.Typer(
    help="Webhooks: send a signed test event, verify a signature", no_args_is_help=True
)


@webhooks_app.command("test")
def send_test(
    url: Annotated[str, typer.Argument(help="The receiver's URL")],
    secret: Annotated[
        str | None, typer.Option(help="Sign with this whsec_ secret (default: a new one, printed)")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the answer")] = 15.0,
    allow_private: Annotated[
        bool, typer.Option(help="Allow private and loopback addresses (a receiver on this machine)")
    ] = True,
) -> None:
    """POST a signed `webhook.test` event to URL, as faktur sends events, and show the answer."""
    secret = secret or signing.new_secret()
    now = datetime.now(UTC)
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "id": event_id,
            "type": "webhook.test",
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "data": {"object": {"id": event_id, "message": "a test event from `faktur webhooks test`"}},
        },
        separators=(",", ":"),
    ).encode()
    try:
        headers = signing.headers([secret], event_id, int(now.timestamp()), body)
    except signing.SignatureError as exc:
        raise typer.BadParameter(str(exc), param_hint="--secret") from exc
    answer = sender.post(url, body, headers, timeout=timeout, allow_private=allow_private)
    typer.echo(f"secret: {secret}")
    typer.echo(f"webhook-id: {event_id}")
    if answer.status_code is None:
        typer.echo(f"no answer after {answer.response_ms} ms: {answer.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"HTTP {answer.status_code} in {answer.response_ms} ms")
    if answer.body:
        typer.echo(answer.body)
    raise typer.Exit(0 if answer.succeeded else 1)


@webhooks_app.command("verify")
def verify(
    secret: Annotated[str, typer.Option(help="The endpoint's whsec_ secret")],
    webhook_id: Annotated[str, typer.Option("--id", help="The webhook-id header")],
    timestamp: Annotated[str, typer.Option(help="The webhook-timestamp header")],
    signature: Annotated[str, typer.Option(help="The webhook-signature header (all of it)")],
    body: Annotated[Path, typer.Argument(help="A file with the exact body received; - for stdin")] = Path(
        "-"
    ),
    tolerance: Annotated[int, typer.Option(help="Seconds the timestamp may be from now")] = 300,
) -> None:
    """Check a received payload and its signature; exit 0 when it verifies, 1 with the reason when not."""
    payload = sys.stdin.buffer.read() if str(body) == "-" else body.read_bytes()
    received = {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    try:
        signing.verify(secret, received, payload, int(time.time()), tolerance)
    except signing.SignatureError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("valid")
