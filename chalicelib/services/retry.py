"""Retrying a read-decide-commit use case that lost a race.

A money use case is one step: load what it decides on, decide through the domain, commit one
conditional transaction. When the commit loses a race (the store raises ConcurrentUpdate: a
concurrent transaction, or a condition on what was read no longer holds) nothing was written,
so the step is run again from the load, and decides again on what is there now (a key claimed
meanwhile is then a replay, a seat taken a proper refusal). After the last attempt the caller
is told to retry later, in the one message below.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib.domain.errors import ConcurrentUpdate, Unavailable

T = TypeVar("T")
ATTEMPTS = 8
# No attempt starts after this long: 8 lost races take well under a second (the pauses add up to
# at most 0.95 s), so only a slow database reaches it; an attempt started just before it still
# fits the request's budget (docs/ops.md "Time budgets").
BUDGET_SECONDS = 6.0
BUSY = "too many concurrent changes to {what}; retry the same request"


class ReadAgain(ConcurrentUpdate):
    """Raised by a step that found what it read out of date (an index lagging, a drawn code
    taken): run it again, as after a lost race; at once with ``pause=False`` (nobody to let
    pass: only the step's own read was stale)."""

    def __init__(self, message: str, *, pause: bool = True) -> None:
        super().__init__(message)
        self.pause = pause


def backoff(attempt: int) -> None:
    """Sleep a jittered, growing moment before attempt ``attempt + 1``."""
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))  # noqa: S311 -- jitter, not a secret


def run_until_committed[T](step: Callable[[], T], *, attempts: int = ATTEMPTS, what: str = "this",
                           pause: Callable[[int], None] = backoff, budget_seconds: float = BUDGET_SECONDS,
                           clock: Callable[[], float] = time.monotonic) -> T:
    """``step()`` (load → decide → commit), run again after a jittered pause each time it
    raises ConcurrentUpdate; Unavailable (503 TRY_AGAIN) when the ``attempts``-th also lost, or
    when ``budget_seconds`` have gone by (a database that answers slowly or times out the
    commit: the request must still answer inside API Gateway's 29 s, docs/ops.md "Time budgets").
    Any other error (a domain refusal) ends it at once."""
    started = clock()
    for attempt in range(attempts):
        try:
            return step()
        except ConcurrentUpdate as lost:
            if attempt + 1 == attempts or clock() - started >= budget_seconds:
                break
            if getattr(lost, "pause", True):
                pause(attempt)
    raise Unavailable(BUSY.format(what=what))


class Reads[T]:
    """What the caller read serves the first attempt; every later attempt reads afresh."""

    def __init__(self, given: T, read: Callable[[], T]) -> None:
        self._given, self._read, self.calls = given, read, 0

    def __call__(self) -> T:
        self.calls += 1
        return self._given if self.calls == 1 else self._read()

    @property
    def from_caller(self) -> bool:
        """Whether the last value is the caller's (which may be out of date)."""
        return self.calls == 1
