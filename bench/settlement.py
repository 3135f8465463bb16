"""Settlement against moto in-process: 10,000 frozen commissions, due today, settled by the job;
entries per second and DynamoDB calls per entry (counted on the botocore client's hooks).

The commissions and their wallets are seeded directly through the ledger model with
BatchWriteItem (the fast path): no orders are placed.

moto backs up the whole table once per *item* of a TransactWriteItems (``copy.deepcopy`` of the
table, kept to roll back a cancelled transaction): 100 items over a 21,000-item table copy two
million items per call, so the figure would measure moto, not the job (1,000 entries took 78 s).
The bench settles without cancellations, so it runs with that backup switched off
(``_no_table_backups``); everything else is moto's ordinary code path.
"""
from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

AVAILABLE_AT = datetime(2026, 11, 12, 16, 0, tzinfo=UTC)  # 2026-11-13 00:00 in Shanghai
NOW = AVAILABLE_AT + timedelta(minutes=10)


def seed_frozen(n: int, users: int, prefix: str = "s", with_entries: bool = True,
                available_at: datetime = AVAILABLE_AT) -> dict[str, int]:
    """``n`` frozen commissions of 1–100 fen spread over ``users`` users, listed for settlement at
    ``available_at``, with wallets (frozen = their sum) and, optionally, the entries explaining
    them. Returns each user's frozen total."""
    from chalicelib.store.ledger import WALLET, LedgerItem, commission_key, entry_key, settle_keys

    at = available_at - timedelta(days=3)
    frozen: dict[str, int] = {}
    with LedgerItem.batch_write() as batch:
        for i in range(n):
            user_id, order_id, fen = f"{prefix}u{i % users:05d}", f"{prefix}o{i:06d}", 1 + i % 100
            day, key = settle_keys(user_id, order_id, 1, available_at)
            batch.save(LedgerItem(user_id, commission_key(order_id, 1), order_id=order_id, level=1, amount_fen=fen,
                                  status="frozen", at=at, available_at=available_at, settle_day=day,
                                  settle_key=key))
            if with_entries:
                for kind, movement in (("accrual", "->pending"), ("completion", "pending>frozen")):
                    batch.save(LedgerItem(user_id, entry_key(order_id, 1, kind), order_id=order_id, level=1,
                                          amount_fen=fen, kind=kind, at=at, status=movement))
            frozen[user_id] = frozen.get(user_id, 0) + fen
        for user_id, fen in frozen.items():
            batch.save(LedgerItem(user_id, WALLET, pending_fen=0, frozen_fen=fen, available_fen=0))
    return frozen


@contextlib.contextmanager
def _no_table_backups() -> Iterator[None]:
    """moto's ``transact_write_items`` without its per-item deep copy of the table (see above)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _Copy:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = models.copy
    models.copy = _Copy  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = original


def run(n: int = 10_000, users: int = 1_000) -> dict[str, Any]:
    from moto import mock_aws

    from bench.meter import DynamoMeter
    from chalicelib.services.deps import Deps
    from chalicelib.services.settlement import settle_commissions
    from chalicelib.store.ledger import LedgerItem
    from chalicelib.store.tables import ensure_tables, reset_connections

    endpoint = os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    try:
        with mock_aws(), _no_table_backups():
            reset_connections()
            ensure_tables()
            started = time.perf_counter()
            seed_frozen(n, users, with_entries=False)
            seeded = time.perf_counter() - started
            meter = DynamoMeter()
            meter.attach_models([LedgerItem])
            started = time.perf_counter()
            summary = settle_commissions(NOW, Deps())
            elapsed = time.perf_counter() - started
            calls = meter.take()
            again = settle_commissions(NOW, Deps())
        reset_connections()
    finally:
        if endpoint:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return {"n": n, "users": users, "seed_s": seeded, "seconds": elapsed, "summary": summary,
            "second_run": again, "per_s": summary["settled"] / elapsed, "calls": dict(calls.calls),
            "calls_per_entry": calls.round_trips / max(summary["settled"], 1),
            "transactions": calls.calls.get("TransactWriteItems", 0)}


def section(r: dict[str, Any]) -> str:
    calls = ", ".join(f"{name}×{count}" for name, count in sorted(r["calls"].items()))
    return "\n".join([
        f"Settlement against moto in-process: {r['n']:,} frozen commissions of {r['users']:,} users, due today",
        f"  settled {r['summary']['settled']:,} ({r['summary']['settled_fen']:,} fen) in {r['seconds']:.1f} s: "
        f"{r['per_s']:,.0f} entries/s",
        f"  DynamoDB calls: {calls}; {r['calls_per_entry']:.3f} calls per entry "
        f"({r['n'] / max(r['transactions'], 1):.1f} entries per transaction)",
        f"  second run: {r['second_run']['settled']} settled (idempotent); seeding took {r['seed_s']:.1f} s",
    ])


if __name__ == "__main__":
    from bench.env import apply_in_process

    apply_in_process()
    print(section(run()))
