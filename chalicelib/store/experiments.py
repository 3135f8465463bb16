"""Experiments in the analytics table (``AnalyticsItem``, prefix ``exp#``; docs/experiments.md).

=============================  ==========================  ==========================================
pk                             sk                          what
=============================  ==========================  ==========================================
``exp#u#<user_id>``            ``<experiment>``            the user's exposure: ``ref`` the variant,
                                                           ``n`` exposed at, ``score`` converted at
                                                           (epoch seconds; absent until converted)
``exp#<experiment>#<shard>``   ``x#<variant>``             exposures of a variant (``n``, ADD only)
``exp#<experiment>#<shard>``   ``c#<variant>``             conversions of a variant (``n``, ADD only)
=============================  ==========================  ==========================================

Exactly once: an exposure is a put conditioned on its absence, in one transaction with the
increment of its variant's counter; a conversion sets ``score`` conditioned on the exposure
existing without it, in one transaction with the conversion counter. A retry, a replayed payment
or a concurrent first call cancels the transaction and counts nothing. Counters land on one of
``SHARDS`` partitions at random (the shard is in the partition key: DynamoDB's 1,000 writes a
second hold per partition, so sort-key shards under one partition key would not spread the
load; docs/capacity.md), so a popular experiment's counter is never a hot key; reading a
variant's figures sums its shards (one Query per shard). A user's exposures to every
experiment are one Query (``exp#u#<user_id>``), which is what a payment reads.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.experiments import VariantCounts
from chalicelib.store.analytics import AnalyticsItem
from chalicelib.store.base import TransactionFailed, transaction_failure

SHARDS = 8  # partitions per experiment's counters: 8,000 first exposures or conversions a second


@dataclass(frozen=True)
class Exposure:
    experiment: str
    variant: str
    exposed_at: datetime
    converted_at: datetime | None


def _user_pk(user_id: str) -> str:
    return f"exp#u#{user_id}"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _instant(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def _exposure(item: AnalyticsItem) -> Exposure:
    return Exposure(item.sk, item.ref or "", _instant(item.n or 0),
                    _instant(item.score) if item.score is not None else None)


def _counter(tx: TransactWrite, experiment: str, kind: str, variant: str) -> None:
    key = AnalyticsItem(counter_pk(experiment, random.randrange(SHARDS)), f"{kind}#{variant}")  # noqa: S311 -- a shard
    tx.update(key, actions=[AnalyticsItem.n.add(1)])


def counter_pk(experiment: str, shard: int) -> str:
    return f"exp#{experiment}#{shard}"


def _once(build: Callable[[TransactWrite], None]) -> bool:
    """Run a transaction whose first item is conditioned: False when that condition failed."""
    try:
        with TransactWrite(connection=AnalyticsItem._get_connection().connection) as tx:
            build(tx)
    except TransactWriteError as exc:
        failure: TransactionFailed = transaction_failure(exc)
        if failure.failed_at(0):
            return False
        raise failure from exc
    return True


class ExperimentStore:
    def exposure(self, user_id: str, experiment: str) -> Exposure | None:
        try:
            return _exposure(AnalyticsItem.get(_user_pk(user_id), experiment, consistent_read=True))
        except AnalyticsItem.DoesNotExist:
            return None

    def exposures_of(self, user_id: str) -> list[Exposure]:
        """Every exposure of a user (one consistent Query)."""
        return [_exposure(item) for item in AnalyticsItem.query(_user_pk(user_id), consistent_read=True)]

    def expose(self, user_id: str, experiment: str, variant: str, now: datetime) -> bool:
        """Record the user's first exposure and count it; False when one is recorded already.
        Raises TransactionFailed when a concurrent transaction touched the same counter."""
        def build(tx: TransactWrite) -> None:
            tx.save(AnalyticsItem(_user_pk(user_id), experiment, ref=variant, n=_epoch(now)),
                    condition=AnalyticsItem.pk.does_not_exist())
            _counter(tx, experiment, "x", variant)

        return _once(build)

    def convert(self, user_id: str, experiment: str, variant: str, at: datetime) -> bool:
        """Mark the exposure converted and count it; False when it converted before (or is absent)."""
        def build(tx: TransactWrite) -> None:
            tx.update(AnalyticsItem(_user_pk(user_id), experiment), actions=[AnalyticsItem.score.set(_epoch(at))],
                      condition=AnalyticsItem.pk.exists() & AnalyticsItem.score.does_not_exist())
            _counter(tx, experiment, "c", variant)

        return _once(build)

    def counts(self, experiment: str) -> dict[str, VariantCounts]:
        """Exposures and conversions per variant, shards summed (one Query per shard)."""
        sums: dict[str, list[int]] = {}
        for shard in range(SHARDS):
            for item in AnalyticsItem.query(counter_pk(experiment, shard)):
                kind, variant = item.sk.split("#", 1)
                row = sums.setdefault(variant, [0, 0])
                row[0 if kind == "x" else 1] += int(item.n or 0)
        return {variant: VariantCounts(variant, x, c) for variant, (x, c) in sums.items()}
