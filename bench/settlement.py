"""Settlement against moto in-process: 10,000 frozen commissions, due today, settled by the job
(``run_job``: its 16 parts); entries per second and DynamoDB calls per entry (counted on the
botocore client's hooks); then the same number spread over the 16 shards and settled by 1, 4 and
16 workers splitting the parts.

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


def seed_available(user_id: str, month: str, fen: int, now: datetime) -> None:
    """``fen`` in ``available`` the way money gets there, with the entries explaining it: a
    partner's team bonus of ``month`` (a month nobody else uses) accrued into pending, then
    settled. For scenarios that need money to withdraw."""
    from chalicelib.store.ledger import DueCommission, LedgerItem, SettlementStore, team_sales_key
    from chalicelib.store.rewards import RewardStore

    LedgerItem(user_id, team_sales_key(month), amount_fen=fen).save()
    RewardStore().accrue_team_bonus(user_id, month, fen, fen, 10_000, now, now)
    SettlementStore().settle([DueCommission(user_id, "", 0, fen, month)], now)


def seed_frozen(n: int, users: int, prefix: str = "s", with_entries: bool = True,
                available_at: datetime = AVAILABLE_AT, shard: str | None = None) -> dict[str, int]:
    """``n`` frozen commissions of 1–100 fen spread over ``users`` users, listed for settlement at
    ``available_at``, with wallets (frozen = their sum) and, optionally, the entries explaining
    them. User ``k`` is ``<prefix>u<k:05d>``, which puts users 0–9 in shards 0–9 (the last digit);
    with ``shard``, every user id ends in that hex digit instead (all in one shard). Returns each
    user's frozen total."""
    from chalicelib.store.ledger import WALLET, LedgerItem, commission_key, entry_key, settle_keys

    at = available_at - timedelta(days=3)
    frozen: dict[str, int] = {}
    with LedgerItem.batch_write() as batch:
        for i in range(n):
            user_id, order_id, fen = f"{prefix}u{i % users:05d}{shard or ''}", f"{prefix}o{i:06d}", 1 + i % 100
            in_shard, key = settle_keys(user_id, order_id, 1, available_at)
            batch.save(LedgerItem(user_id, commission_key(order_id, 1), order_id=order_id, level=1, amount_fen=fen,
                                  status="frozen", at=at, available_at=available_at, settle_shard=in_shard,
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


THREADS = (1, 4, 16)


def run(n: int = 10_000, users: int = 1_000) -> dict[str, Any]:
    """The job over ``n`` commissions due (calls per entry), then the same ``n`` spread over the 16
    shards and settled by 1, 4 and 16 workers, each running its share of the job's parts
    (entries per second)."""
    return {**_single(n, users), "threads": {str(t): _threaded(n, users, t) for t in THREADS}}


def _single(n: int, users: int) -> dict[str, Any]:
    from bench.meter import DynamoMeter
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs import run_job
    from chalicelib.store.ledger import LedgerItem

    with _moto():
        started = time.perf_counter()
        seed_frozen(n, users, with_entries=False)
        seeded = time.perf_counter() - started
        meter = DynamoMeter()
        meter.attach_models([LedgerItem])
        started = time.perf_counter()
        summary = run_job("settle_commissions", NOW, Deps())
        elapsed = time.perf_counter() - started
        calls = meter.take()
        again = run_job("settle_commissions", NOW, Deps())
    return {"n": n, "users": users, "seed_s": seeded, "seconds": elapsed, "summary": summary,
            "second_run": again, "per_s": summary["settled"] / elapsed, "calls": dict(calls.calls),
            "calls_per_entry": calls.round_trips / max(summary["settled"], 1),
            "transactions": calls.calls.get("TransactWriteItems", 0)}


def _threaded(n: int, users: int, threads: int) -> dict[str, Any]:
    """``threads`` workers, worker k running the slices of its share of the 16 parts (shards) one
    after the other, as queue workers would; moto answers one call at a time (it is not
    thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.bootstrap import Deps
    from chalicelib.domain.shards import SHARDS
    from chalicelib.jobs.engine import Deadline
    from chalicelib.services.settlement import settle_part
    from chalicelib.store.ledger import LedgerItem

    shares = [SHARDS[k * len(SHARDS) // threads:(k + 1) * len(SHARDS) // threads] for k in range(threads)]

    def worker(share: tuple[str, ...]) -> int:
        deps, settled = Deps(), 0
        for part in share:
            cursor: str | None = None
            while True:
                progress = settle_part(part, cursor, NOW, deps, Deadline.after(45))
                settled += progress.counts["settled"]
                if (cursor := progress.cursor) is None:
                    break
        return settled

    per_shard = n // len(SHARDS)
    with _moto():
        for shard in SHARDS:
            seed_frozen(per_shard, max(1, users // len(SHARDS)), prefix=f"d{shard}", with_entries=False,
                        shard=shard)
        client = LedgerItem._get_connection().connection.client
        with _one_call_at_a_time(client), ThreadPoolExecutor(threads) as pool:
            started = time.perf_counter()
            settled = sum(pool.map(worker, shares))
            elapsed = time.perf_counter() - started
    if settled != per_shard * len(SHARDS):
        raise RuntimeError(f"{threads} workers settled {settled} of {per_shard * len(SHARDS)}")
    return {"threads": threads, "n": settled, "seconds": elapsed, "per_s": settled / elapsed}


@contextlib.contextmanager
def _moto() -> Iterator[None]:
    """Fresh tables in moto in-process (no per-item table backup: see above)."""
    from moto import mock_aws

    from chalicelib.store.tables import ensure_tables, reset_connections

    endpoint = os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    try:
        with mock_aws(), _no_table_backups():
            reset_connections()
            ensure_tables()
            yield
        reset_connections()
    finally:
        if endpoint:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint


@contextlib.contextmanager
def _one_call_at_a_time(client: Any) -> Iterator[None]:
    """A lock held from each call's ``before-call`` to its ``after-call`` (or ``after-call-error``)."""
    import threading

    lock = threading.Lock()

    def take(**_: Any) -> None:
        lock.acquire()

    def give(**_: Any) -> None:
        lock.release()

    events = client.meta.events
    events.register("before-call.dynamodb.*", take, unique_id="bench-lock-take")
    events.register("after-call.dynamodb.*", give, unique_id="bench-lock-give")
    events.register("after-call-error.dynamodb.*", give, unique_id="bench-lock-error")
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb.*", unique_id="bench-lock-take")
        events.unregister("after-call.dynamodb.*", unique_id="bench-lock-give")
        events.unregister("after-call-error.dynamodb.*", unique_id="bench-lock-error")


def section(r: dict[str, Any]) -> str:
    calls = ", ".join(f"{name}×{count}" for name, count in sorted(r["calls"].items()))
    rows = [f"{t:>7} {x['n']:>7,} {x['seconds']:>7.1f} {x['per_s']:>9,.0f}" for t, x in r.get("threads", {}).items()]
    return "\n".join([
        f"Settlement against moto in-process: {r['n']:,} frozen commissions of {r['users']:,} users, due today",
        f"  settled {r['summary']['settled']:,} ({r['summary']['settled_fen']:,} fen) in {r['seconds']:.1f} s: "
        f"{r['per_s']:,.0f} entries/s",
        f"  DynamoDB calls: {calls}; {r['calls_per_entry']:.3f} calls per entry "
        f"({r['n'] / max(r['transactions'], 1):.1f} entries per transaction)",
        f"  second run: {r['second_run']['settled']} settled (idempotent); seeding took {r['seed_s']:.1f} s",
        "  the same commissions over the 16 shards, parts split among workers (moto answers one call at a time):",
        "  threads entries       s  entries/s",
        *["  " + row for row in rows],
    ])


if __name__ == "__main__":
    from bench.env import apply_in_process

    apply_in_process()
    print(section(run()))
