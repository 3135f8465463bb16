"""Invariants: what the code relies on and no input can break (an item the same transaction
wrote, a status the state machine guarantees). A broken one is a bug, answered 500 and logged;
unlike ``assert``, the check also runs under ``python -O``."""
from __future__ import annotations


class InvariantBroken(RuntimeError):
    """Something that cannot happen did: a bug, never bad input."""


def present[T](value: T | None, what: str) -> T:
    """``value``, which the invariant ``what`` says is there."""
    if value is None:
        raise InvariantBroken(f"{what} is missing")
    return value


def holds(condition: object, what: str) -> None:
    """Raise InvariantBroken unless ``condition`` (the invariant ``what``) is true."""
    if not condition:
        raise InvariantBroken(f"broken invariant: {what}")
