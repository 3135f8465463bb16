"""Settlement (T+N) and reconciliation: the two daily jobs of the distributors' money, each a
plan of parts and a worker for one slice of a part (chalicelib/jobs/engine.py, docs/jobs.md).

``settle_commissions``: one part per shard of the ``settle_queue`` index (16); a slice settles the
shard's commissions due by the run's instant, page by page, in transactions of up to 100 items,
and hands back the page cursor when its deadline comes. ``reconcile_wallets``: one part per shard
of yesterday's and today's ``touched`` wallets (32). Both are idempotent: a slice run again (a
redelivered message, a crash) credits nothing twice, since every settlement transaction is
conditioned on what it moves, and reconciliation only reads.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.invariants import holds
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.domain.wallet import CommissionsChanged, balances_from, differences
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.ledger import DueCommission, SettlementStore

ATTEMPTS = 8
RECONCILE_LOOKBACK_DAYS = 1  # yesterday and today: a daily run after midnight covers every movement
STABLE_READS = 3


def settlement_parts(now: datetime, deps: Deps) -> list[str]:
    """The parts of a settlement run: the shards of ``settle_queue``. Each holds everything due by
    ``now`` however long ago it fell due (its sort key is the due instant), so no look-back."""
    return list(SHARDS)


def settle_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One slice of a shard: frozen commissions (and pending team bonuses) due by ``now`` become
    available, in transactions of up to 100 items, batches running on across pages; after each
    page, an expired deadline settles what was read and hands back the page's cursor. Run twice,
    concurrently, late or after a crash, every commission is credited once: each transaction is
    conditioned on the commissions still being frozen."""
    from chalicelib.store.ledger import TRANSACTION_ITEMS, items_for

    holds(part in SHARDS, f"a settlement part is a shard ({part!r})")
    store = deps.settlement
    totals = {"settled": 0, "settled_fen": 0, "skipped": 0, "deferred": 0}
    batch: list[DueCommission] = []
    while True:
        page, cursor = store.due(part, now, cursor)
        for due in page:
            if items_for([*batch, due]) > TRANSACTION_ITEMS:
                _credited(settle_batch(store, batch, now, totals), now, deps)
                batch = []
            batch.append(due)
        if cursor is None or deadline.expired():
            _credited(settle_batch(store, batch, now, totals), now, deps)
            return Progress(totals, cursor)


def _credited(settled: list[DueCommission], now: datetime, deps: Deps) -> None:
    """Each commission just made available queues its subscribe message (sent by the
    ``send_messages`` job: the settlement's slices make no WeChat call)."""
    from chalicelib.domain.notices import commission_credited
    from chalicelib.services.subscriptions import notify

    for due in settled:
        if due.bonus_month is None:
            notify(commission_credited(due.user_id, due.order_id, due.level, due.amount_fen, now), deps, send=False)


def settlement_finished(now: datetime, deps: Deps, counts: dict[str, Any]) -> dict[str, Any]:
    """Once per run, with every part's counts summed: the run's metrics (as one run emitted them
    before it had parts)."""
    _emit_settlement(counts)
    return {}


def settle_batch(store: SettlementStore, batch: list[DueCommission], now: datetime,
                 totals: dict[str, int]) -> list[DueCommission]:
    """Settle one batch; commissions refused by their condition (settled, reversed or clawed back
    meanwhile) leave the batch and the rest is tried again. The day's settled-commission counter
    moves in the batch's own transaction (store/ledger.py). Returns what this call settled."""
    from chalicelib.observability import logger

    left = list(batch)

    def settle() -> None:
        nonlocal left
        if not left:
            return
        try:
            store.settle(left, now)
        except CommissionsChanged as refused:
            totals["skipped"] += len(refused.positions)
            left = [c for i, c in enumerate(left) if i not in refused.positions]
            raise
        totals["settled"] += len(left)
        totals["settled_fen"] += sum(c.amount_fen for c in left)

    try:
        run_until_committed(settle, attempts=ATTEMPTS, what="these commissions")
    except Unavailable:
        totals["deferred"] += len(left)  # still frozen and listed: the next run settles them
        logger().warning("settlement batch deferred after repeated conflicts", extra={"commissions": len(left)})
        return []
    return left


def _emit_settlement(totals: dict[str, Any]) -> None:
    from chalicelib.observability import metrics

    m = metrics()
    m.add_metric(name="commissions_settled", unit="Count", value=totals.get("settled", 0))
    m.add_metric(name="commission_fen_settled", unit="Count", value=totals.get("settled_fen", 0))
    m.add_metric(name="settlement_deferred", unit="Count", value=totals.get("deferred", 0))


def reconcile_parts(now: datetime, deps: Deps) -> list[str]:
    """The parts of a reconciliation run: ``<day>#<shard>`` of the ``touched`` index for yesterday
    and today (a wallet is listed under the day of its last movement only)."""
    today = business_date(now)
    days = [today - timedelta(days=offset) for offset in range(RECONCILE_LOOKBACK_DAYS, -1, -1)]
    return [f"{day.isoformat()}#{shard}" for day in days for shard in SHARDS]


def reconcile_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One slice of a day's shard: recompute each wallet listed from its ledger entries and compare
    with the stored balances, a page of wallets at a time. Each difference is an ERROR log line
    (alarm-worthy) at once; the run's metrics come when it finishes."""
    day, _, shard = part.partition("#")
    holds(shard in SHARDS, f"a reconciliation part is a day's shard ({part!r})")
    counts = {"wallets": 0, "differences": 0}
    while True:
        users, cursor = deps.settlement.touched_wallets(day, shard, cursor)
        for user_id, found in page_differences(users, deps).items():
            counts["wallets"] += 1
            counts["differences"] += len(found)
            _log_differences(user_id, found)
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)


def page_differences(users: list[str], deps: Deps) -> dict[str, dict[str, tuple[int, int]]]:
    """(stored, from the ledger) per bucket that differs, for each of a page of wallets: the
    wallets read in one batch, then each one's entries, then the wallets again in one batch
    (about one round trip per wallet instead of three). A wallet whose two reads differ moved
    while its entries were read: it is checked again on its own (``wallet_differences``)."""
    before = deps.ledger.wallets(users)
    expected = {user_id: balances_from(deps.settlement.entry_movements(user_id)) for user_id in users}
    after = deps.ledger.wallets(users)
    return {user_id: differences(after[user_id], expected[user_id]) if after[user_id] == before[user_id]
            else wallet_differences(user_id, deps) for user_id in users}


def _log_differences(user_id: str, found: dict[str, tuple[int, int]]) -> None:
    from chalicelib.observability import logger

    for bucket, (stored, expected) in found.items():
        logger().error("wallet differs from its ledger", extra={
            "alarm": "reconciliation_difference", "user_id": user_id, "bucket": bucket,
            "stored_fen": stored, "ledger_fen": expected, "difference_fen": stored - expected})


def reconciliation_finished(now: datetime, deps: Deps, counts: dict[str, Any]) -> dict[str, Any]:
    """Once per run: how many differences (alarm on > 0) and wallets, over every part."""
    from chalicelib.observability import metrics

    metrics().add_metric(name="reconciliation_differences", unit="Count", value=counts.get("differences", 0))
    metrics().add_metric(name="wallets_reconciled", unit="Count", value=counts.get("wallets", 0))
    return {}


def wallet_differences(user_id: str, deps: Deps) -> dict[str, tuple[int, int]]:
    """(stored, from the ledger) per bucket that differs. The entries are read between two reads
    of the wallet; a movement in between (the two reads differ) means read again."""
    stored = deps.ledger.wallet(user_id)
    for _ in range(STABLE_READS):
        expected = balances_from(deps.settlement.entry_movements(user_id))
        after = deps.ledger.wallet(user_id)
        if after == stored:
            break
        stored = after
    return differences(stored, expected)
