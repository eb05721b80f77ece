"""Delivering events to webhook endpoints, outside any request: the outbox loop's webhook drain.

Each pass (1) fans new events out into one delivery per subscribed endpoint, (2) leases the due
deliveries (a delivery is due when its next attempt's time has come and no older delivery of
the same object to the same endpoint is pending: each object's events arrive in order), and
(3) sends each, signed, and writes the outcome: delivered on a 2xx answer, else retried after
the next delay of the schedule, failed after the last. A worker that dies mid-send loses its
lease after the timeout and the delivery is sent again, with the same webhook-id, by another.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from faktur.db import session_scope
from faktur.events.service import record_event
from faktur.events.types import EventType
from faktur.models import WebhookAttempt, WebhookEndpoint
from faktur.outbox_pass import NOTHING, Pass
from faktur.webhooks import repository, sender, signing
from faktur.webhooks.repository import Claimed
from faktur.webhooks.schemas import WebhookEndpointOut
from faktur.webhooks.service import subscribed

logger = logging.getLogger("faktur.webhooks")

FAN_OUT_BATCH = 500
# Leased together and sent at once, each within the lease (timeout + margin). A pass costs three
# transactions whatever its size, so a month-end burst is sent 32 at a time (8 delivered ~30 % fewer
# events per second, docs/benchmarks.md).
CLAIM_BATCH = 32
# Sends to one endpoint in flight at once, per worker: an endpoint that hangs (or answers slowly)
# holds at most this many of the CLAIM_BATCH sending threads until its timeout, the rest serve the
# other endpoints meanwhile.
PER_ENDPOINT = 8
# A lease outlives the request's timeout by this much before another worker may send again.
LEASE_MARGIN = timedelta(seconds=5)
# How long a pass waits for its sends before it records what came and leaves the rest in flight.
PASS_WAIT = timedelta(seconds=1)


@dataclass(frozen=True)
class DeliveryPolicy:
    retry_delays: tuple[timedelta, ...]
    timeout_seconds: float  # float-ok: seconds
    disable_after: timedelta
    allow_private_urls: bool

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds) + LEASE_MARGIN


def fan_out(session: Session, now: datetime, limit: int = FAN_OUT_BATCH) -> int:
    """Make the deliveries of up to `limit` new events; how many events were fanned out. A
    disabled endpoint gets its deliveries too: they wait until it is enabled again."""
    if not repository.any_endpoint(session):
        # Nothing to deliver to; events wait (an endpoint gets the events from its creation on).
        return 0
    pending = repository.events_to_fan_out(session, limit)
    if not pending:
        return 0
    endpoints = repository.endpoints_of(session, {e.organisation_id for e in pending})
    rows: list[dict[str, object]] = []
    for event in pending:
        for endpoint in endpoints:
            if (
                endpoint.organisation_id == event.organisation_id
                and endpoint.created_at <= event.created_at
                and subscribed(endpoint, event.type)
            ):
                rows.append(
                    {
                        "organisation_id": event.organisation_id,
                        "endpoint_id": endpoint.id,
                        "event_seq": event.seq,
                        "object_id": event.object_id,
                        "status": repository.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    repository.add_deliveries(session, rows)
    repository.mark_fanned_out(session, [e.seq for e in pending])
    return len(pending)


def signing_secrets(claimed: Claimed, now: datetime) -> list[str]:
    """The current secret, and the previous one during its grace period."""
    found = [claimed.secret]
    if (
        claimed.previous_secret
        and claimed.previous_secret_expires_at
        and claimed.previous_secret_expires_at > now
    ):
        found.append(claimed.previous_secret)
    return found


def send(claimed: Claimed, policy: DeliveryPolicy, now: datetime) -> sender.Answer:
    body = claimed.payload.encode()
    headers = signing.headers(
        signing_secrets(claimed, now), str(claimed.event_id), int(now.timestamp()), body
    )
    return sender.post(
        claimed.url, body, headers, timeout=policy.timeout_seconds, allow_private=policy.allow_private_urls
    )


def record_outcome(
    session: Session,
    endpoint: WebhookEndpoint,
    claimed: Claimed,
    answer: sender.Answer,
    sent_at: datetime,
    now: datetime,
    policy: DeliveryPolicy,
) -> None:
    """Log the attempt and move the delivery on: delivered, retried later, or failed; an endpoint
    failing for longer than the policy allows is disabled, and a webhook_endpoint.disabled event says so.
    `endpoint` is the delivery's, locked by this transaction (`repository.endpoints_for_update`)."""
    attempt = claimed.attempts + 1
    repository.add_attempt(
        session,
        WebhookAttempt(
            id=uuid.uuid4(),
            organisation_id=claimed.organisation_id,
            created_at=sent_at,
            endpoint_id=claimed.endpoint_id,
            delivery_id=claimed.delivery_id,
            event_id=claimed.event_id,
            event_type=claimed.event_type,
            attempt=attempt,
            status_code=answer.status_code,
            response_ms=answer.response_ms,
            response_body=answer.body,
            error=answer.error,
            succeeded=answer.succeeded,
        ),
    )
    if answer.succeeded:
        status, next_at = repository.DELIVERED, None
    elif attempt > len(policy.retry_delays):
        status, next_at = repository.FAILED, None
    else:
        status, next_at = repository.PENDING, now + policy.retry_delays[attempt - 1]
    if not repository.settle_delivery(
        session, claimed, status=status, attempts=attempt, next_attempt_at=next_at
    ):
        return  # another worker took the delivery over (this one outlived its lease): its outcome counts
    if answer.succeeded:
        endpoint.failing_since = None
        return
    endpoint.failing_since = endpoint.failing_since or sent_at
    if endpoint.enabled and now - endpoint.failing_since >= policy.disable_after:
        endpoint.enabled = False
        endpoint.disabled_reason = f"every delivery failed since {endpoint.failing_since.isoformat()}"
        endpoint.updated_at = now
        session.flush()
        record_event(
            session,
            endpoint.organisation_id,
            EventType.WEBHOOK_ENDPOINT_DISABLED,
            WebhookEndpointOut.of(endpoint),
            now=now,
        )
        logger.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)


def fair_share(due: list[tuple[int, uuid.UUID]], busy: Counter[uuid.UUID], room: int) -> list[int]:
    """Of the due deliveries (id, endpoint id), oldest first, the first `room` whose endpoint
    has fewer than PER_ENDPOINT sends in flight (`busy`, counted on as they are taken)."""
    taken: list[int] = []
    counts = Counter(busy)
    for delivery_id, endpoint_id in due:
        if len(taken) == room:
            break
        if counts[endpoint_id] < PER_ENDPOINT:
            counts[endpoint_id] += 1
            taken.append(delivery_id)
    return taken


Clock = Callable[[], datetime]
# A delivery sent: what was leased, what the receiver answered, when it was sent.
Sent = tuple[Claimed, sender.Answer, datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookDrain:
    """The outbox loop's webhook drain: each call is one pass (fan out, lease, send, record) and
    says how much it did, and whether a batch was full. Deliveries leased together are sent at once.

    A pass waits for its own sends at most `PASS_WAIT` (a receiver that answers at all answers
    within it) and records every send that has ended; a send still running stays in flight, its
    lease held, its thread busy, and is recorded by the first pass that finds it ended. A slow or
    hanging receiver thus holds its own sending threads until the timeout, at most PER_ENDPOINT
    of them, not the outbox loop (nor the other receivers, and the e-mails, behind it).
    """

    def __init__(
        self, factory: sessionmaker[Session], policy: DeliveryPolicy, clock: Clock = _utc_now
    ) -> None:
        self.factory = factory
        self.policy = policy
        self.clock = clock
        self.senders = ThreadPoolExecutor(max_workers=CLAIM_BATCH, thread_name_prefix="faktur-webhook")
        # The sends running, each with its endpoint.
        self.in_flight: dict[Future[Sent], uuid.UUID] = {}

    def __call__(self) -> Pass:
        with session_scope(self.factory) as session:
            fanned = fan_out(session, self.clock())
        room = CLAIM_BATCH - len(self.in_flight)
        claimed: list[Claimed] = []
        left_due = False
        if room > 0:
            claimed, left_due = self._claim(room)
            new = {self.senders.submit(self._send, delivery): delivery.endpoint_id for delivery in claimed}
            self.in_flight |= new
            wait(new, timeout=PASS_WAIT.total_seconds())  # this pass's sends; earlier ones are not waited for
        finished = [future for future in self.in_flight if future.done()]
        for future in finished:
            del self.in_flight[future]
        self._record([future.result() for future in finished])
        # More is waiting when the room was filled, or when due deliveries were left for an
        # endpoint's share (its sends have ended by the next pass, unless they hang).
        sent = Pass(len(claimed), len(claimed) == room or left_due) if room > 0 else NOTHING
        return Pass.of(fanned, FAN_OUT_BATCH) + sent

    def _claim(self, room: int) -> tuple[list[Claimed], bool]:
        """Lease up to `room` due deliveries, oldest first, at most PER_ENDPOINT in flight to any
        one endpoint (counting this worker's sends still running); and whether due deliveries of
        endpoints below that were left for a later pass."""
        busy = Counter(self.in_flight.values())
        now = self.clock()
        with session_scope(self.factory) as session:
            due = repository.due_deliveries(
                session, now, 2 * room, skip_endpoints={e for e, n in busy.items() if n >= PER_ENDPOINT}
            )
            chosen = fair_share(due, busy, room)
            return repository.lease(session, chosen, now + self.policy.lease), len(due) > len(chosen)

    def _record(self, sent: list[Sent]) -> None:
        if sent:
            # The pass's outcomes in one transaction (one turn of SQLite's writer lock, not one each).
            with session_scope(self.factory) as session:
                # The endpoint rows first, once each, in one order by every worker: recording an
                # attempt takes a key-share lock on its endpoint (foreign key), and two outcomes for
                # one endpoint that took those before this lock would deadlock.
                endpoints = repository.endpoints_for_update(session, {item[0].endpoint_id for item in sent})
                for delivery, answer, sent_at in sorted(
                    sent, key=lambda item: (item[0].endpoint_id, item[0].delivery_id)
                ):
                    endpoint = endpoints.get(delivery.endpoint_id)
                    if endpoint is None:
                        continue  # deleted meanwhile, with its deliveries
                    record_outcome(session, endpoint, delivery, answer, sent_at, self.clock(), self.policy)

    def _send(self, delivery: Claimed) -> Sent:
        sent_at = self.clock()
        return delivery, send(delivery, self.policy, sent_at), sent_at

    def close(self) -> None:
        """Let the sends in flight finish and record them (each ends within the policy's timeout)."""
        self.senders.shutdown(wait=True)
        finished, self.in_flight = [future.result() for future in self.in_flight], {}
        try:
            self._record(finished)
        except Exception:
            # Their leases run out and they are sent again (at least once, with the same webhook-id).
            logger.exception("could not record the outcomes of %d webhook sends at shutdown", len(finished))
