"""The outbox loop sleeps its poll interval after a pass whose batches were not full, and goes
again at once after a full one (faktur.outbox, faktur.outbox_pass): a steady stream of events is
drained in batches, not one pass per event."""

from __future__ import annotations

import threading
import time

from faktur.outbox import OutboxLoop
from faktur.outbox_pass import Pass


def _run(loop: OutboxLoop, seconds: float) -> None:  # float-ok: seconds
    loop.start()
    time.sleep(seconds)
    loop.stop()


def test_a_pass_with_partial_batches_waits_for_the_poll_interval() -> None:
    calls: list[float] = []  # float-ok: monotonic seconds

    def drain() -> Pass:
        calls.append(time.monotonic())
        return Pass.of(1, 100)  # one event of a batch of 100: nothing more is waiting

    _run(OutboxLoop({"one": drain}, poll_seconds=0.2), 0.7)
    # Passes at about 0, 0.2, 0.4, 0.6 s: never a busy loop although every pass found work.
    assert 2 <= len(calls) <= 5, calls


def test_a_full_batch_makes_the_loop_go_again_at_once() -> None:
    backlog = [250]
    emptied = threading.Event()

    def drain() -> Pass:
        taken = min(100, backlog[0])
        backlog[0] -= taken
        if backlog[0] == 0:
            emptied.set()
        return Pass.of(taken, 100)

    loop = OutboxLoop({"backlog": drain}, poll_seconds=30)
    loop.start()
    try:
        # 100 + 100 + 50: three passes back to back, long before one poll interval.
        assert emptied.wait(5)
    finally:
        loop.stop()
    assert backlog == [0]


def test_passes_add_up() -> None:
    assert Pass.of(3, 10) + Pass.of(10, 10) == Pass(13, True)
    assert Pass.of(3, 10) + Pass.of(0, 10) == Pass(3, False)
