"""Settlement (T+3) and reconciliation on moto: due dates, idempotence, batches, refunds."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench.settlement import seed_frozen
from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import orders, referrals, settlement
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import DueCommission, LedgerItem, items_for
from tests.service.test_orders import distributor, login, paid_order


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"

SHANGHAI_MIDNIGHT_13TH = datetime(2026, 11, 12, 16, 0, tzinfo=UTC)  # completion on the 10th (Shanghai) + 3


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
    early = settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH - timedelta(seconds=1), deps)
    assert early["settled"] == 0
    on_time = settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH + timedelta(minutes=10), deps)
    assert on_time == {"settled": 1, "settled_fen": 1_000, "skipped": 0, "deferred": 0}
    for _ in range(2):
        assert settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH + timedelta(minutes=20), deps)["settled"] == 0
    wallet = deps.ledger.wallet(seller)
    assert (wallet["frozen"], wallet["available"]) == (0, 1_000)
    [commission] = deps.ledger.commissions_of_order(order_id, [(seller, 1)])
    assert commission.status.value == "available"
    item = LedgerItem.get(seller, f"commission#{order_id}#1")
    assert item.settle_day is None and item.settle_key is None  # left the index
    assert sorted(e["kind"] for e in deps.ledger.entries(seller)) == ["accrual", "completion", "settlement"]


def test_a_late_run_settles_what_fell_due_days_ago(deps, product):
    seller, _, _ = completed_order(deps, product)
    late = SHANGHAI_MIDNIGHT_13TH + timedelta(days=20)
    assert settlement.settle_commissions(late, deps)["settled"] == 1
    assert deps.ledger.wallet(seller)["available"] == 1_000


def test_a_commission_refunded_while_frozen_leaves_the_index_and_is_never_settled(deps, product):
    seller, buyer, order_id = completed_order(deps, product)
    assert LedgerItem.get(seller, f"commission#{order_id}#1").settle_day == "2026-11-13"
    orders.refund(order_id, Caller(buyer, "user"), "不想要了", deps)
    assert LedgerItem.get(seller, f"commission#{order_id}#1").settle_day is None
    assert settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH + timedelta(days=1), deps)["settled"] == 0
    assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0,
                                          "withdrawn": 0}


def test_a_refund_after_settlement_claws_back_and_reconciles(deps, product):
    seller, buyer, order_id = completed_order(deps, product)
    settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH, deps)
    orders.refund(order_id, Caller(buyer, "user"), "坏了", deps)
    assert deps.ledger.wallet(seller)["available"] == 0
    assert settlement.reconcile_wallets(deps.clock(), deps) == {"wallets": 1, "differences": 0}


def test_many_commissions_settle_in_transactions_of_at_most_100_items_with_one_wallet_update_per_user(deps,
                                                                                                    monkeypatch):
    frozen = seed_frozen(60, users=7)
    batches: list[list[DueCommission]] = []
    real = deps.settlement.settle
    monkeypatch.setattr(deps.settlement, "settle", lambda batch, now: (batches.append(list(batch)),
                                                                      real(batch, now))[1])
    summary = settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH, deps)
    assert summary["settled"] == 60 and summary["settled_fen"] == sum(frozen.values())
    assert len(batches) == 2 and all(items_for(b) <= 100 for b in batches)
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}


def test_a_run_killed_half_way_then_run_again_credits_every_commission_once(deps):
    frozen = seed_frozen(30, users=4)
    due = list(deps.settlement.due("2026-11-13", SHANGHAI_MIDNIGHT_13TH))
    deps.settlement.settle(due[:11], SHANGHAI_MIDNIGHT_13TH)  # the first batch committed, then the run died
    summary = settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH + timedelta(hours=1), deps)
    assert summary["settled"] == 19
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id)["available"] == fen
    assert settlement.reconcile_wallets(SHANGHAI_MIDNIGHT_13TH, deps)["differences"] == 0


def test_a_batch_holding_commissions_settled_meanwhile_is_retried_without_them(deps):
    seed_frozen(5, users=2)
    due = list(deps.settlement.due("2026-11-13", SHANGHAI_MIDNIGHT_13TH))
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
    settlement.settle_commissions(SHANGHAI_MIDNIGHT_13TH, deps)
    flush_metrics()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["commissions_settled"] in (3.0, [3.0])
    assert emf[-1]["commission_fen_settled"] in (6.0, [6.0])


def test_reconciliation_catches_a_corrupted_balance_with_a_metric_and_an_error_line(deps, product, capsys):
    seller, _, _ = completed_order(deps, product)
    assert settlement.reconcile_wallets(deps.clock(), deps)["differences"] == 0
    LedgerItem(seller, "wallet").update(actions=[LedgerItem.available_fen.add(7)])  # a stray write
    capsys.readouterr()
    assert settlement.reconcile_wallets(deps.clock(), deps) == {"wallets": 1, "differences": 1}
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ERROR"' in line]
    assert errors[0]["user_id"] == seller and errors[0]["bucket"] == "available"
    assert (errors[0]["stored_fen"], errors[0]["ledger_fen"], errors[0]["difference_fen"]) == (7, 0, 7)


def test_reconciliation_reads_only_wallets_touched_yesterday_or_today(deps, product, clock):
    completed_order(deps, product)
    assert settlement.reconcile_wallets(clock(), deps)["wallets"] == 1
    assert settlement.reconcile_wallets(clock() + timedelta(days=1), deps)["wallets"] == 1
    assert settlement.reconcile_wallets(clock() + timedelta(days=2), deps)["wallets"] == 0


@pytest.mark.parametrize(("movements", "expected"), [
    ([("->pending", 5), ("pending>frozen", 5), ("frozen>available", 5)], {"available": 5}),
    ([("->pending", 5), ("pending>-", 5)], {}),
    ([("available>-", 3)], {"available": -3}),
])
def test_balances_are_the_sum_of_entries(movements, expected):
    from chalicelib.domain.wallet import balances_from

    assert {k: v for k, v in balances_from(movements).items() if v} == expected
