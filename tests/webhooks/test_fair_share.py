"""Which due deliveries a pass leases: oldest first, at most PER_ENDPOINT in flight per endpoint."""

from __future__ import annotations

import uuid
from collections import Counter

from faktur.webhooks.delivery import PER_ENDPOINT, fair_share

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _backlog(endpoint: uuid.UUID, first: int, count: int) -> list[tuple[int, uuid.UUID]]:
    return [(first + n, endpoint) for n in range(count)]


def test_an_endpoint_with_a_backlog_leaves_the_rest_of_the_pass_to_the_others() -> None:
    due = [*_backlog(A, 1, 3 * PER_ENDPOINT), (100, B), (101, C)]
    taken = fair_share(due, Counter(), room=32)
    assert taken == [*range(1, PER_ENDPOINT + 1), 100, 101]


def test_sends_still_in_flight_count_against_their_endpoint() -> None:
    due = [*_backlog(A, 1, PER_ENDPOINT), (100, B)]
    assert fair_share(due, Counter({A: PER_ENDPOINT - 2}), room=32) == [1, 2, 100]
    assert fair_share(due, Counter({A: PER_ENDPOINT}), room=32) == [100]


def test_the_oldest_are_taken_up_to_the_room_of_the_pass() -> None:
    due = [(1, A), (2, B), (3, A), (4, C)]
    assert fair_share(due, Counter(), room=3) == [1, 2, 3]
    assert fair_share(due, Counter(), room=0) == []
