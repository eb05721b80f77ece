"""What one pass of an outbox drain did (faktur.outbox), apart from the loop so drains below it can
say it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pass:
    """`done` items handled, and `more`: a batch came back full, so work may be waiting now and
    the loop goes again at once; otherwise it sleeps its poll interval. A stream of single
    events thus costs one pass per interval, not one pass per event."""

    done: int = 0
    more: bool = False

    @classmethod
    def of(cls, done: int, batch: int) -> Pass:
        """A pass that handled `done` items of a batch of at most `batch`."""
        return cls(done, done >= batch)

    def __add__(self, other: Pass) -> Pass:
        return Pass(self.done + other.done, self.more or other.more)


NOTHING = Pass()
