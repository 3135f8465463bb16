"""Settlement (T+N) and reconciliation: the two daily jobs of the distributors' money."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.wallet import CommissionsChanged, balances_from, differences
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.ledger import DueCommission, SettlementStore

ATTEMPTS = 8
SETTLE_LOOKBACK_DAYS = 30  # a run this late still finds everything
RECONCILE_LOOKBACK_DAYS = 1  # yesterday and today: a daily run after midnight covers every movement
STABLE_READS = 3


def _days(now: datetime, lookback_days: int) -> list[date]:
    today = business_date(now)
    return [today - timedelta(days=offset) for offset in range(lookback_days, -1, -1)]


def settle_commissions(now: datetime, deps: Deps, lookback_days: int = SETTLE_LOOKBACK_DAYS) -> dict[str, int]:
    """Job: frozen commissions whose ``available_at`` has come become available. Finds them day by
    day in the sparse ``settle_due`` index and moves them in transactions of up to 100 items.
    Run twice, concurrently, late or after a crash, every commission is credited once: each
    transaction is conditioned on the commissions still being frozen."""
    from chalicelib.store.ledger import TRANSACTION_ITEMS, items_for

    store = deps.settlement
    totals = {"settled": 0, "settled_fen": 0, "skipped": 0, "deferred": 0}
    batch: list[DueCommission] = []
    for day in _days(now, lookback_days):
        for due in store.due(day.isoformat(), now):
            if items_for([*batch, due]) > TRANSACTION_ITEMS:
                settle_batch(store, batch, now, totals)
                batch = []
            batch.append(due)
    settle_batch(store, batch, now, totals)
    _emit_settlement(totals)
    return totals


def settle_batch(store: SettlementStore, batch: list[DueCommission], now: datetime, totals: dict[str, int]) -> None:
    """Settle one batch; commissions refused by their condition (settled, reversed or clawed back
    meanwhile) leave the batch and the rest is tried again. The day's settled-commission counter
    moves in the batch's own transaction (store/ledger.py)."""
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


def _emit_settlement(totals: dict[str, int]) -> None:
    from chalicelib.observability import metrics

    m = metrics()
    m.add_metric(name="commissions_settled", unit="Count", value=totals["settled"])
    m.add_metric(name="commission_fen_settled", unit="Count", value=totals["settled_fen"])
    m.add_metric(name="settlement_deferred", unit="Count", value=totals["deferred"])


def reconcile_wallets(now: datetime, deps: Deps, lookback_days: int = RECONCILE_LOOKBACK_DAYS) -> dict[str, int]:
    """Job: recompute every wallet touched in the last days from its ledger entries and compare
    with the stored balances. Each difference is a metric and an ERROR log line (alarm-worthy)."""
    from chalicelib.observability import logger, metrics

    users = dict.fromkeys(u for day in _days(now, lookback_days) for u in deps.settlement.touched_wallets(day.isoformat()))
    found = 0
    for user_id in users:
        for bucket, (stored, expected) in wallet_differences(user_id, deps).items():
            found += 1
            logger().error("wallet differs from its ledger", extra={
                "alarm": "reconciliation_difference", "user_id": user_id, "bucket": bucket,
                "stored_fen": stored, "ledger_fen": expected, "difference_fen": stored - expected})
    metrics().add_metric(name="reconciliation_differences", unit="Count", value=found)
    metrics().add_metric(name="wallets_reconciled", unit="Count", value=len(users))
    return {"wallets": len(users), "differences": found}


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
