"""Wallet arithmetic: balances as the sum of the ledger entries that explain them."""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.errors import ConcurrentUpdate

BUCKETS = ("pending", "frozen", "available", "withdrawing", "withdrawn")


def balances_from(movements: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Balances implied by entries, each ``("source>target", fen)`` (``-`` for outside the wallet):
    the amount leaves ``source`` and arrives in ``target``."""
    totals = {bucket: 0 for bucket in BUCKETS}
    for movement, fen in movements:
        source, _, target = movement.partition(">")
        if source in totals:
            totals[source] -= fen
        if target in totals:
            totals[target] += fen
    return totals


def differences(stored: dict[str, int], expected: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The buckets where the stored balance is not what the entries add up to: (stored, expected)."""
    return {bucket: (stored.get(bucket, 0), expected.get(bucket, 0)) for bucket in BUCKETS
            if stored.get(bucket, 0) != expected.get(bucket, 0)}


class CommissionsChanged(ConcurrentUpdate):
    """A settlement refused because some of its commissions are no longer frozen (settled, reversed
    or clawed back meanwhile): ``positions`` in the batch. The rest can be settled without them."""

    def __init__(self, positions: frozenset[int]) -> None:
        super().__init__("some commissions changed meanwhile", positions=sorted(positions))
        self.positions = positions
