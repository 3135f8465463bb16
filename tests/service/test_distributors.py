"""The operator's hold on distributors, on moto: the freeze (no commission on orders paid while
frozen, normal and group orders; no withdrawal, before any other check; old commission keeps
settling), the manual tier (no payment, binding or month change moves it; lifting it lets the
rules decide), and the distributor list with its filters and search."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.distributors import AccountFrozen, AlreadyFrozen, DistributorNotFound, NotFrozen
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import IdempotencyKeyReused
from chalicelib.domain.tiers import Tier
from chalicelib.jobs import run_job
from chalicelib.services import distributors, groups, orders, referrals, withdrawals
from chalicelib.services.distributors import Filters
from chalicelib.services.sessions import Caller
from chalicelib.store.admin import AdminItem
from tests.service.test_groups import pay
from tests.service.test_orders import distributor, login, paid_order
from tests.service.test_tier_moves import big, in_range, invitees, on_roll  # noqa: F401  (big: a fixture)
from tests.service.test_withdrawals import credit, verified

ADMIN = "u-admin"
MONTH = "2026-11"
DECEMBER_1ST = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)


@pytest.fixture
def product(deps: Deps) -> str:
    """50 yuan, 20% level 1, 5% level 2; a group of 3 at 30% off."""
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500, GroupBuy()),
                                deps.clock())
    return "p1"


@pytest.fixture
def tree(deps: Deps) -> dict[str, str]:
    """top ← mid ← buyer: the buyer's order pays mid (level 1) and top (level 2)."""
    top, top_code = distributor(deps, "top")
    mid = login(deps, "mid")
    referrals.bind(mid, top_code, deps)
    mid_code = deps.users.get(mid).invite_code or _open(deps, mid)
    buyer = login(deps, "buyer")
    referrals.bind(buyer, mid_code, deps)
    return {"top": top, "mid": mid, "buyer": buyer}


def _open(deps: Deps, user_id: str) -> str:
    from chalicelib.services import shops

    code = shops.open_shop(user_id, "mid shop", deps).invite_code
    assert code
    return code


def code_of(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def audit_actions() -> list[str]:
    return sorted(item.action for item in AdminItem.scan() if item.action)


# The freeze ----------------------------------------------------------------------------------------

def test_an_order_paid_while_level_1_is_frozen_pays_level_2_only_and_the_platform_keeps_the_rest(deps, tree, product):
    distributors.freeze(tree["mid"], "刷单调查", ADMIN, deps)
    order_id = paid_order(deps, tree["buyer"], product)
    order = deps.orders.get(order_id)
    assert [(s.user_id, s.level, s.amount_fen) for s in order.commissions] == [(tree["top"], 2, 250)]
    assert order.forfeited == (tree["mid"],)
    assert deps.ledger.wallet(tree["mid"])["pending"] == 0 and deps.ledger.wallet(tree["top"])["pending"] == 250
    assert deps.users.get(tree["mid"]).sales.fen == 5_000  # the sales still count: a fact, not money
    distributors.unfreeze(tree["mid"], "查无问题", ADMIN, deps)
    after = deps.orders.get(paid_order(deps, tree["buyer"], product))
    assert [(s.level, s.amount_fen) for s in after.commissions] == [(1, 1_000), (2, 250)] and after.forfeited == ()
    assert audit_actions() == ["user.freeze", "user.unfreeze"]


def test_a_frozen_level_2_loses_only_their_own_share(deps, tree, product):
    distributors.freeze(tree["top"], "调查", ADMIN, deps)
    order = deps.orders.get(paid_order(deps, tree["buyer"], product))
    assert [(s.user_id, s.amount_fen) for s in order.commissions] == [(tree["mid"], 1_000)]
    assert order.forfeited == (tree["top"],)


def test_the_freeze_is_judged_at_payment_an_order_placed_before_it_and_paid_after_pays_the_platform(
        deps, tree, product):
    body = {"items": [{"product_id": product, "quantity": 1}], "address": {"name": "a", "phone": "1", "detail": "d"}}
    placed = orders.place_order(tree["buyer"], [(product, 1)], body, uuid.uuid4().hex, deps).order
    distributors.freeze(tree["mid"], "调查", ADMIN, deps)
    headers, raw = deps.pay.build_payment_notification(placed.order_id, deps.clock(), amount_fen=placed.amount_fen)
    from chalicelib.services import payments

    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    assert [s.level for s in deps.orders.get(placed.order_id).commissions] == [2]


def test_a_group_order_paid_while_level_1_is_frozen_pays_no_level_1_commission(deps, tree, product):
    distributors.freeze(tree["mid"], "调查", ADMIN, deps)
    opened = groups.open_group(tree["buyer"], product, {"product_id": product}, uuid.uuid4().hex, deps)
    assert pay(deps, opened.order.order_id) == "paid"
    order = deps.orders.get(opened.order.order_id)
    assert [s.level for s in order.commissions] == [2] and order.forfeited == (tree["mid"],)


def test_commission_accrued_before_the_freeze_keeps_settling_but_cannot_be_withdrawn(deps, clock, tree, product):
    order_id = paid_order(deps, tree["buyer"], product)
    distributors.freeze(tree["mid"], "调查", ADMIN, deps)
    orders.ship(order_id, "SF", "SF1", deps)
    orders.confirm(order_id, Caller(tree["buyer"], "user"), deps)
    clock.advance(days=8)
    run_job("settle_commissions", clock(), deps)
    assert deps.ledger.wallet(tree["mid"])["available"] == 1_000
    assert code_of(lambda: withdrawals.request_withdrawal(tree["mid"], 1_000, "k1", deps)) == "ACCOUNT_FROZEN"
    assert deps.ledger.wallet(tree["mid"])["available"] == 1_000  # nothing moved


def test_account_frozen_comes_before_every_other_check_the_replay_of_a_key_included(deps):
    user_id = verified(deps, "rich", fen=200_000)
    deps.users.open_shop(user_id, "rich shop", "RICH2345", deps.clock())
    first = withdrawals.request_withdrawal(user_id, 10_000, "key-1", deps)
    distributors.freeze(user_id, "调查", ADMIN, deps)
    with pytest.raises(AccountFrozen):  # a replay of the key, with the same body
        withdrawals.request_withdrawal(user_id, 10_000, "key-1", deps)
    with pytest.raises(AccountFrozen):  # the same key with another body: not IDEMPOTENCY_KEY_REUSED
        withdrawals.request_withdrawal(user_id, 20_000, "key-1", deps)
    with pytest.raises(AccountFrozen):  # below the minimum, over the balance: still frozen first
        withdrawals.request_withdrawal(user_id, 1, "key-2", deps)
    with pytest.raises(AccountFrozen):
        withdrawals.request_withdrawal(user_id, 10_000_000, "key-3", deps)
    distributors.unfreeze(user_id, "ok", ADMIN, deps)
    assert withdrawals.request_withdrawal(user_id, 10_000, "key-1", deps).withdrawal_id == first.withdrawal_id
    with pytest.raises(IdempotencyKeyReused):
        withdrawals.request_withdrawal(user_id, 20_000, "key-1", deps)


def test_an_unverified_frozen_distributor_is_told_frozen_not_real_name_required(deps):
    user_id, _ = distributor(deps, "plain")
    credit(deps, user_id, 50_000)
    distributors.freeze(user_id, "调查", ADMIN, deps)
    assert code_of(lambda: withdrawals.request_withdrawal(user_id, 10_000, "k", deps)) == "ACCOUNT_FROZEN"


def test_a_freeze_committed_after_the_requests_read_refuses_the_withdrawal_in_its_transaction(deps, monkeypatch):
    user_id = verified(deps, "racer", fen=200_000)
    deps.users.open_shop(user_id, "racer shop", "RACE2345", deps.clock())
    original = deps.withdrawals.reads

    def reads_then_freeze(*args, **kwargs):
        found = original(*args, **kwargs)
        if not deps.users.get(user_id).frozen:
            distributors.freeze(user_id, "调查", ADMIN, deps)
        return found

    monkeypatch.setattr(deps.withdrawals, "reads", reads_then_freeze)
    assert code_of(lambda: withdrawals.request_withdrawal(user_id, 10_000, "k", deps)) == "ACCOUNT_FROZEN"
    assert deps.ledger.wallet(user_id)["available"] == 200_000


def test_freezing_twice_unfreezing_the_unfrozen_and_a_user_without_a_shop_are_refused_and_change_nothing(deps, tree):
    distributors.freeze(tree["mid"], "调查", ADMIN, deps)
    assert code_of(lambda: distributors.freeze(tree["mid"], "again", ADMIN, deps)) == AlreadyFrozen.code
    assert code_of(lambda: distributors.unfreeze(tree["top"], "never frozen", ADMIN, deps)) == NotFrozen.code
    assert code_of(lambda: distributors.freeze(tree["buyer"], "no shop", ADMIN, deps)) == DistributorNotFound.code
    assert code_of(lambda: distributors.set_tier("u-nobody", Tier.SENIOR, "x", ADMIN, deps)) == \
        DistributorNotFound.code
    assert audit_actions() == ["user.freeze"]


# The manual tier -----------------------------------------------------------------------------------

def test_a_manual_tier_stands_against_the_payment_that_crosses_the_threshold(deps, big):  # noqa: F811
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 10)
    distributors.set_tier(alice, Tier.REGULAR, "待考察", ADMIN, deps)
    for buyer in buyers[:3]:
        paid_order(deps, buyer, big)  # 7,500 yuan with 10 direct: a senior's figures
    me = deps.users.get(alice)
    assert (me.tier, me.manual_tier, me.sales.fen) == (Tier.REGULAR, Tier.REGULAR, 750_000)
    assert deps.orders.get(paid_order(deps, buyers[3], big)).commissions[0].amount_fen == 50_000  # no uplift
    lifted = distributors.set_tier(alice, None, "考察结束", ADMIN, deps)
    assert (lifted.tier, lifted.manual_tier) == (Tier.SENIOR, None)  # the rules decide at once


def test_a_manual_tier_stands_against_the_binding_that_crosses_the_threshold(deps, big):  # noqa: F811
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 9)
    paid_order(deps, buyers[0], big, quantity=2)
    distributors.set_tier(alice, Tier.REGULAR, "待考察", ADMIN, deps)
    referrals.bind(login(deps, "tenth"), code, deps)
    assert deps.users.get(alice).tier is Tier.REGULAR


def test_a_manual_senior_earns_the_uplift_and_the_month_change_keeps_it(deps, big):  # noqa: F811
    alice, code = distributor(deps, "alice")
    buyer = invitees(deps, code, 1)[0]
    distributors.set_tier(alice, Tier.SENIOR, "重点培养", ADMIN, deps)
    assert deps.orders.get(paid_order(deps, buyer, big)).commissions[0].amount_fen == 62_500  # 20% + 5 points
    assert in_range(deps, alice, "2026-12")
    run = run_job("evaluate_tiers", DECEMBER_1ST, deps)
    assert run["kept"] == 1 and run["downgraded"] == 0
    me = deps.users.get(alice)
    assert (me.tier, me.manual_tier, me.tier_month) == (Tier.SENIOR, Tier.SENIOR, "2026-12")
    assert not in_range(deps, alice, "2026-12")


def test_a_manual_partner_is_on_the_months_roll_and_stays_on_it_after_the_month_change(deps):
    alice, _ = distributor(deps, "alice")
    distributors.set_tier(alice, Tier.PARTNER, "合伙人签约", ADMIN, deps)
    assert on_roll(alice, MONTH)
    run_job("evaluate_tiers", DECEMBER_1ST, deps)
    assert on_roll(alice, "2026-12") and deps.users.get(alice).tier is Tier.PARTNER


def test_each_tier_action_is_audited_with_the_tier_before_and_after(deps, clock):
    alice, _ = distributor(deps, "alice")
    distributors.set_tier(alice, Tier.PARTNER, "签约", ADMIN, deps)
    clock.advance(seconds=1)
    distributors.set_tier(alice, None, "解约", ADMIN, deps)
    entries = sorted(AdminItem.scan(), key=lambda i: i.sk)

    assert [json.loads(e.state) for e in entries] == [
        {"before": {"tier": "regular", "manual_tier": None}, "after": {"tier": "partner", "manual_tier": "partner"}},
        {"before": {"tier": "partner", "manual_tier": "partner"}, "after": {"tier": "regular", "manual_tier": None}}]
    assert [(e.action, e.actor, e.target, e.reason) for e in entries] == [
        ("user.tier", ADMIN, f"user#{alice}", "签约"), ("user.tier", ADMIN, f"user#{alice}", "解约")]


# The list -------------------------------------------------------------------------------------------

def everyone(deps: Deps, filters: Filters, limit: int) -> list[str]:
    """Every page of the list, in order."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page, cursor = distributors.distributors(filters, limit, cursor, deps)
        seen += [d.user.user_id for d in page]
        if cursor is None:
            return seen
    raise AssertionError("the list never ended")


def test_the_list_merges_the_shards_newest_shop_first_and_pages_cover_everyone_once(deps, clock):
    opened = []
    for i in range(23):
        opened.append(distributor(deps, f"d{i}")[0])
        clock.advance(minutes=1)
    login(deps, "just-a-buyer")
    expected = list(reversed(opened))
    assert everyone(deps, Filters(), 5) == expected
    assert everyone(deps, Filters(), 100) == expected
    assert len({u[-1] for u in opened}) > 5  # spread over the shards


def test_the_filters_tier_frozen_and_the_search(deps, clock, product):
    people = {}
    for name in ("ann", "bob", "cat", "dan"):
        people[name] = distributor(deps, name)
        clock.advance(minutes=1)
    distributors.set_tier(people["bob"][0], Tier.SENIOR, "x", ADMIN, deps)
    distributors.set_tier(people["cat"][0], Tier.PARTNER, "x", ADMIN, deps)
    distributors.freeze(people["dan"][0], "x", ADMIN, deps)
    ids = {name: user_id for name, (user_id, _) in people.items()}
    assert everyone(deps, Filters(tier=Tier.SENIOR), 2) == [ids["bob"]]
    assert everyone(deps, Filters(tier=Tier.PARTNER), 2) == [ids["cat"]]
    assert everyone(deps, Filters(tier=Tier.REGULAR), 1) == [ids["dan"], ids["ann"]]
    assert everyone(deps, Filters(frozen=True), 2) == [ids["dan"]]
    assert everyone(deps, Filters(frozen=False), 2) == [ids["cat"], ids["bob"], ids["ann"]]
    assert everyone(deps, Filters(q=ids["bob"]), 20) == [ids["bob"]]
    assert everyone(deps, Filters(q=people["cat"][1].lower()), 20) == [ids["cat"]]  # an invite code, any case
    assert everyone(deps, Filters(q="ANN SH"), 20) == [ids["ann"]]  # a part of the shop name
    assert everyone(deps, Filters(q="nobody"), 20) == []
    assert everyone(deps, Filters(q=ids["bob"], tier=Tier.PARTNER), 20) == []


def test_a_row_carries_counts_this_months_sales_and_the_wallet(deps, tree, product):
    paid_order(deps, tree["buyer"], product)
    [row] = distributors.distributors(Filters(q=tree["mid"]), 20, None, deps)[0]
    assert (row.user.member.direct_count, row.month_sales_fen) == (1, 5_000)
    assert row.wallet == {"pending": 1_000, "frozen": 0, "available": 0, "withdrawing": 0, "withdrawn": 0}


def test_a_cursor_of_another_list_is_refused(deps):
    distributor(deps, "ann")
    distributor(deps, "bob")
    _, cursor = distributors.distributors(Filters(), 1, None, deps)
    assert cursor
    assert code_of(lambda: distributors.distributors(Filters(frozen=True), 1, cursor, deps)) == "INVALID_CURSOR"
    assert code_of(lambda: distributors.distributors(Filters(), 1, "garbage!", deps)) == "INVALID_CURSOR"


def test_a_withdrawal_under_review_is_not_approved_while_its_distributor_is_frozen(deps):
    user_id = verified(deps, "big", fen=200_000)
    deps.users.open_shop(user_id, "big shop", "BIGS2345", deps.clock())
    queued = withdrawals.request_withdrawal(user_id, 60_000, "k", deps)
    assert queued.status.value == "reviewing"
    distributors.freeze(user_id, "调查", ADMIN, deps)
    assert code_of(lambda: withdrawals.approve(queued.withdrawal_id, ADMIN, deps)) == "ACCOUNT_FROZEN"
    assert deps.withdrawals.get(queued.withdrawal_id).status.value == "reviewing"
    rejected = withdrawals.reject(queued.withdrawal_id, ADMIN, "冻结中", deps)
    assert rejected.status.value == "returned" and deps.ledger.wallet(user_id)["available"] == 200_000


def test_a_freeze_committed_after_the_approvals_read_refuses_it_in_its_transaction(deps, monkeypatch):
    user_id = verified(deps, "big", fen=200_000)
    deps.users.open_shop(user_id, "big shop", "BIGS2345", deps.clock())
    queued = withdrawals.request_withdrawal(user_id, 60_000, "k", deps)
    original = deps.users.get
    reads = []

    def get_then_freeze(uid, *args, **kwargs):
        found = original(uid, *args, **kwargs)
        reads.append(uid)
        if len(reads) == 1:  # the approval's read: the freeze commits right after it
            distributors.freeze(user_id, "调查", ADMIN, deps)
        return found

    monkeypatch.setattr(deps.users, "get", get_then_freeze)
    assert code_of(lambda: withdrawals.approve(queued.withdrawal_id, ADMIN, deps)) == "ACCOUNT_FROZEN"
    assert deps.withdrawals.get(queued.withdrawal_id).status.value == "reviewing"
