"""Settlement (T+3) and reconciliation on moto: due dates, idempotence, batches, refunds; both
run as jobs of parts (``run_job``: every shard, every slice), also one page per slice."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.settlement import seed_frozen
from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.jobs import run_job
from chalicelib.jobs.engine import Deadline
from chalicelib.services import orders, referrals, settlement
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import DueCommission, LedgerItem, items_for, touch
from tests.refunds import refund_whole
from tests.service.test_orders import distributor, login, paid_order

ENGINE_FIELDS = ("parts", "slices", "finished")


def counts(summary: dict[str, Any]) -> dict[str, Any]:
    """A run's summary without the engine's own fields: what the job counted."""
    return {k: v for k, v in summary.items() if k not in ENGINE_FIELDS}


def settle(now: datetime, deps: Deps, **kwargs: Any) -> dict[str, Any]:
    return counts(run_job("settle_commissions", now, deps, **kwargs))


def reconcile(now: datetime, deps: Deps, **kwargs: Any) -> dict[str, Any]:
    return counts(run_job("reconcile_wallets", now, deps, **kwargs))


def all_due(deps: Deps, now: datetime) -> list[DueCommission]:
    """Every shard's first page of what is due (the tests' seeds fit one page)."""
    return [c for shard in SHARDS for c in deps.settlement.due(shard, now)[0]]


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"

SHANGHAI_MIDNIGHT_13TH = datetime(2026, 11, 12, 16, 0, tzinfo=UTC)  # completion on the 10th (Shanghai) + 3
NEVER_EXPIRES = Deadline.after(3600)


def completed_order(deps: Deps, product: str) -> tuple[str, str, str]:
    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product)
    orders.ship(order_id, "SF", "SF123456", deps)
    orders.confirm(order_id, Caller(buyer, "user"), deps)
    return seller, buyer, order_id


def test_commission_stays_frozen_until_three_days_after_completion_then_settles_once(deps, product):
    seller, _, order_id = completed_order(deps, product)
    assert deps.ledger.wallet(seller)["frozen"] == 1_000
    early = settle(SHANGHAI_MIDNIGHT_13TH - timedelta(seconds=1), deps)
    assert early["settled"] == 0
    on_time = settle(SHANGHAI_MIDNIGHT_13TH + timedelta(minutes=10), deps)
    assert on_time == {"settled": 1, "settled_fen": 1_000, "skipped": 0, "deferred": 0}
    for _ in range(2):
        assert settle(SHANGHAI_MIDNIGHT_13TH + timedelta(minutes=20), deps)["settled"] == 0
    wallet = deps.ledger.wallet(seller)
    assert (wallet["frozen"], wallet["available"]) == (0, 1_000)
    [commission] = deps.ledger.commissions_of_order(order_id, [(seller, 1)])
    assert commission.status.value == "available"
    item = LedgerItem.get(seller, f"commission#{order_id}#1")
    assert item.settle_shard is None and item.settle_key is None  # left the index
    assert sorted(e["kind"] for e in deps.ledger.entries(seller)) == ["accrual", "completion", "settlement"]


def test_a_late_run_settles_what_fell_due_days_ago(deps, product):
    seller, _, _ = completed_order(deps, product)
    late = SHANGHAI_MIDNIGHT_13TH + timedelta(days=20)
    assert settle(late, deps)["settled"] == 1
    assert deps.ledger.wallet(seller)["available"] == 1_000


@pytest.mark.parametrize("days_late", [40, 400])
def test_a_commission_due_long_ago_is_settled_there_is_no_look_back(deps, product, days_late):
    """The old job looked back 30 days: a commission due earlier than that was never settled. The
    queue's sort key is the due instant, so "due by now" reaches back to the first one."""
    seller, _, order_id = completed_order(deps, product)
    assert settle(SHANGHAI_MIDNIGHT_13TH + timedelta(days=days_late), deps) == {
        "settled": 1, "settled_fen": 1_000, "skipped": 0, "deferred": 0}
    assert deps.ledger.wallet(seller)["available"] == 1_000
    assert LedgerItem.get(seller, f"commission#{order_id}#1").status == "available"


def test_the_queue_of_a_commission_is_its_users_shard_and_its_key_sorts_by_due_time(deps, product):
    seller, _, order_id = completed_order(deps, product)
    item = LedgerItem.get(seller, f"commission#{order_id}#1")
    assert item.settle_shard == shard_of(seller) and item.settle_shard in SHARDS
    assert item.settle_key == f"2026-11-12T16:00:00Z#{seller}#{order_id}#1"
    wallet = LedgerItem.get(seller, "wallet")
    assert wallet.touched_day == f"{business_date(deps.clock()).isoformat()}#{shard_of(seller)}"


def test_the_plan_names_the_shards_and_a_shard_settles_only_its_own_commissions(deps):
    frozen = seed_frozen(20, users=4)  # users 0-3: shards 0-3
    assert settlement.settlement_parts(SHANGHAI_MIDNIGHT_13TH, deps) == list(SHARDS)
    progress = settlement.settle_part("2", None, SHANGHAI_MIDNIGHT_13TH, deps, NEVER_EXPIRES)
    assert progress.cursor is None and progress.counts["settled"] == 5
    assert {u: deps.ledger.wallet(u)["available"] for u in frozen} == {
        u: (fen if shard_of(u) == "2" else 0) for u, fen in frozen.items()}


def test_a_part_that_is_not_a_shard_is_refused(deps):
    from chalicelib.domain.invariants import InvariantBroken

    with pytest.raises(InvariantBroken):
        settlement.settle_part("2026-11-13", None, SHANGHAI_MIDNIGHT_13TH, deps, NEVER_EXPIRES)
    with pytest.raises(InvariantBroken):
        settlement.reconcile_part("2026-11-13", None, SHANGHAI_MIDNIGHT_13TH, deps, NEVER_EXPIRES)


def test_one_page_per_slice_ends_in_the_same_state_as_whole_slices(deps):
    """250 commissions of 3 users in one shard: 3 pages of 100, each its own slice (the engine's
    deadline expires at once), then every shard empty; the same wallets as without slicing."""
    frozen = seed_frozen(250, users=3, shard="7")
    summary = run_job("settle_commissions", SHANGHAI_MIDNIGHT_13TH, deps, slice_budget=0)
    assert counts(summary) == {"settled": 250, "settled_fen": sum(frozen.values()), "skipped": 0, "deferred": 0}
    assert summary["slices"] == len(SHARDS) + 2  # shard 7 took three slices
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}
        assert settlement.wallet_differences(user_id, deps) == {}
    assert all_due(deps, SHANGHAI_MIDNIGHT_13TH) == []
    assert settle(SHANGHAI_MIDNIGHT_13TH, deps, slice_budget=0)["settled"] == 0


def test_a_commission_refunded_while_frozen_leaves_the_index_and_is_never_settled(deps, product):
    seller, _, order_id = completed_order(deps, product)
    assert LedgerItem.get(seller, f"commission#{order_id}#1").settle_shard == shard_of(seller)
    refund_whole(order_id, deps)  # completed: an after-sales case refunds it
    assert LedgerItem.get(seller, f"commission#{order_id}#1").settle_shard is None
    assert settle(SHANGHAI_MIDNIGHT_13TH + timedelta(days=1), deps)["settled"] == 0
    assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0,
                                          "withdrawn": 0}


def test_a_refund_after_settlement_claws_back_and_reconciles(deps, product):
    seller, _, order_id = completed_order(deps, product)
    settle(SHANGHAI_MIDNIGHT_13TH, deps)
    refund_whole(order_id, deps)
    assert deps.ledger.wallet(seller)["available"] == 0
    assert reconcile(deps.clock(), deps) == {"wallets": 1, "differences": 0}


def test_many_commissions_settle_in_transactions_of_at_most_100_items_with_one_wallet_update_per_user(deps,
                                                                                                    monkeypatch):
    frozen = seed_frozen(60, users=7, shard="c")  # one shard: one part's batches
    batches: list[list[DueCommission]] = []
    real = deps.settlement.settle
    monkeypatch.setattr(deps.settlement, "settle", lambda batch, now: (batches.append(list(batch)),
                                                                      real(batch, now))[1])
    summary = settle(SHANGHAI_MIDNIGHT_13TH, deps)
    assert summary["settled"] == 60 and summary["settled_fen"] == sum(frozen.values())
    assert len(batches) == 2 and all(items_for(b) <= 100 for b in batches)
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}


def test_a_run_killed_half_way_then_run_again_credits_every_commission_once(deps):
    frozen = seed_frozen(30, users=4)
    due = all_due(deps, SHANGHAI_MIDNIGHT_13TH)
    deps.settlement.settle(due[:11], SHANGHAI_MIDNIGHT_13TH)  # the first batch committed, then the run died
    summary = settle(SHANGHAI_MIDNIGHT_13TH + timedelta(hours=1), deps)
    assert summary["settled"] == 19
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id)["available"] == fen
    assert reconcile(SHANGHAI_MIDNIGHT_13TH, deps)["differences"] == 0


def test_a_batch_holding_commissions_settled_meanwhile_is_retried_without_them(deps):
    seed_frozen(5, users=2)
    due = all_due(deps, SHANGHAI_MIDNIGHT_13TH)
    deps.settlement.settle(due[1:3], SHANGHAI_MIDNIGHT_13TH)  # a concurrent run won these two
    totals = {"settled": 0, "settled_fen": 0, "skipped": 0, "deferred": 0}
    settlement.settle_batch(deps.settlement, due, SHANGHAI_MIDNIGHT_13TH, totals)
    assert (totals["settled"], totals["skipped"]) == (3, 2)
    assert sum(deps.ledger.wallet(u)["available"] for u in {c.user_id for c in due}) == sum(c.amount_fen for c in due)


def test_settlement_emits_how_many_commissions_and_how_much_money(deps, capsys):
    from chalicelib.observability import flush_metrics

    seed_frozen(3, users=1)
    flush_metrics()
    capsys.readouterr()
    settle(SHANGHAI_MIDNIGHT_13TH, deps)
    flush_metrics()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["commissions_settled"] in (3.0, [3.0])
    assert emf[-1]["commission_fen_settled"] in (6.0, [6.0])


def test_reconciliation_catches_a_corrupted_balance_with_a_metric_and_an_error_line(deps, product, capsys):
    seller, _, _ = completed_order(deps, product)
    assert reconcile(deps.clock(), deps)["differences"] == 0
    LedgerItem(seller, "wallet").update(actions=[LedgerItem.available_fen.add(7)])  # a stray write
    capsys.readouterr()
    assert reconcile(deps.clock(), deps) == {"wallets": 1, "differences": 1}
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ERROR"' in line]
    assert errors[0]["user_id"] == seller and errors[0]["bucket"] == "available"
    assert (errors[0]["stored_fen"], errors[0]["ledger_fen"], errors[0]["difference_fen"]) == (7, 0, 7)


def test_reconciliation_reads_only_wallets_touched_yesterday_or_today(deps, product, clock):
    completed_order(deps, product)
    assert reconcile(clock(), deps)["wallets"] == 1
    assert reconcile(clock() + timedelta(days=1), deps)["wallets"] == 1
    assert reconcile(clock() + timedelta(days=2), deps)["wallets"] == 0


def test_reconciliation_plans_the_shards_of_yesterday_and_today(deps, clock):
    parts = settlement.reconcile_parts(datetime(2026, 11, 12, 16, 40, tzinfo=UTC), deps)  # 00:40 on the 13th
    assert parts == [f"2026-11-12#{s}" for s in SHARDS] + [f"2026-11-13#{s}" for s in SHARDS]


def test_reconciliation_one_page_per_slice_reads_every_wallet_once(deps, monkeypatch, capsys):
    """230 wallets moved today, all in shard 4 (pages of 100: three slices), one of them wrong:
    the same figures as one slice per part, and the wrong one found once."""
    frozen = seed_frozen(230, users=230, shard="4", available_at=deps.clock() + timedelta(days=3))
    for user_id in frozen:  # listed as touched today, as a movement would
        LedgerItem(user_id, "wallet").update(actions=[touch(user_id, deps.clock())])
    stray = sorted(frozen)[117]
    LedgerItem(stray, "wallet").update(actions=[LedgerItem.available_fen.add(5)])
    capsys.readouterr()
    summary = run_job("reconcile_wallets", deps.clock(), deps, slice_budget=0)
    assert counts(summary) == {"wallets": 230, "differences": 1}
    assert summary["slices"] == 2 * len(SHARDS) + 2
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ERROR"' in line]
    assert [(e["user_id"], e["bucket"], e["difference_fen"]) for e in errors] == [(stray, "available", 5)]
    assert reconcile(deps.clock(), deps) == {"wallets": 230, "differences": 1}


def test_a_wallet_that_moves_while_its_page_is_reconciled_is_read_again_not_reported(deps, product, monkeypatch):
    """The page's wallets are read in one batch before and one after their entries: a movement
    committed in between (here, while the seller's entries are read) differs between the two
    reads, so that wallet is checked again on its own instead of being reported."""
    from pynamodb.transactions import TransactWrite

    seller, _, _ = completed_order(deps, product)
    real = deps.settlement.entry_movements

    def moving_meanwhile(user_id: str) -> Any:
        movements = list(real(user_id))
        with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
            tx.save(LedgerItem(user_id, "entry#gift#0#reward", amount_fen=5, kind="reward", at=deps.clock(),
                               status="->available"), condition=LedgerItem.sk.does_not_exist())
            tx.update(LedgerItem(user_id, "wallet"), actions=[LedgerItem.available_fen.add(5)])
        monkeypatch.setattr(deps.settlement, "entry_movements", real)  # once
        return iter(movements)

    monkeypatch.setattr(deps.settlement, "entry_movements", moving_meanwhile)
    assert settlement.page_differences([seller, "nobody"], deps) == {seller: {}, "nobody": {}}
    assert deps.ledger.wallet(seller)["available"] == 5


@pytest.mark.parametrize(("movements", "expected"), [
    ([("->pending", 5), ("pending>frozen", 5), ("frozen>available", 5)], {"available": 5}),
    ([("->pending", 5), ("pending>-", 5)], {}),
    ([("available>-", 3)], {"available": -3}),
])
def test_balances_are_the_sum_of_entries(movements, expected):
    from chalicelib.domain.wallet import balances_from

    assert {k: v for k, v in balances_from(movements).items() if v} == expected
