"""Withdrawals on moto, with a WeChat merchant transfer the test scripts: limits, review,
payout, the transfer's end by notification or polling, and money returned with an entry."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from bench.settlement import seed_available
from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.identity import check_char
from chalicelib.domain.orders import IdempotencyKeyReused
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.domain.wallet import balances_from, differences
from chalicelib.domain.withdrawals import (
    BelowMinimum,
    DailyLimitExceeded,
    InsufficientBalance,
    NotUnderReview,
    RealNameRequired,
    WithdrawalNotFound,
    WithdrawalStatus,
)
from chalicelib.jobs import run_job
from chalicelib.services import identity, withdrawals
from chalicelib.wechat.transfer import TransferRejected
from chalicelib.wechat.transfer_results import TransferBill, TransferState
from chalicelib.wechat.transfer_simulator import TransferSimulator
from tests.service.test_orders import login
from tests.service.test_settlement import counts, reconcile


def poll_transfers(now: datetime, deps: Deps) -> dict[str, Any]:
    """The polling job, run whole (every shard's part): what it counted."""
    return counts(run_job("poll_transfers", now, deps))


@dataclass
class ScriptedTransfers:
    """WeChat's merchant transfer as the test wants it: ``next_state`` for new bills, ``down``
    (unreachable), ``refuse`` (a WeChat code); bills are kept by number, like WeChat does."""

    next_state: TransferState = TransferState.WAIT_USER_CONFIRM
    down: bool = False
    refuse: str | None = None
    bills: dict[str, TransferBill] = field(default_factory=dict)
    creates: list[tuple[str, int, str | None]] = field(default_factory=list)

    def create_bill(self, out_bill_no: str, openid: str, amount_fen: int, remark: str,
                    user_name: str) -> TransferBill:
        self.creates.append((out_bill_no, amount_fen, user_name))
        if self.down:
            raise Unavailable("WeChat Pay is unreachable; retry")
        if self.refuse:
            raise TransferRejected("refused", wechat_code=self.refuse, wechat_status=403)
        if out_bill_no not in self.bills:
            package = "pkg-" + out_bill_no if self.next_state is TransferState.WAIT_USER_CONFIRM else None
            self.bills[out_bill_no] = TransferBill(out_bill_no, "T" + out_bill_no, self.next_state, amount_fen,
                                                   package)
        return self.bills[out_bill_no]

    def query_bill(self, out_bill_no: str) -> TransferBill | None:
        if self.down:
            raise Unavailable("WeChat Pay is unreachable; retry")
        return self.bills.get(out_bill_no)

    def cancel_bill(self, out_bill_no: str) -> TransferBill:
        return self.end(out_bill_no, TransferState.CANCELLED)

    def end(self, out_bill_no: str, state: TransferState, reason: str | None = None) -> TransferBill:
        bill = self.bills[out_bill_no]
        self.bills[out_bill_no] = TransferBill(out_bill_no, bill.transfer_bill_no, state, bill.amount_fen, None, reason)
        return self.bills[out_bill_no]


@pytest.fixture
def transfers(deps: Deps) -> ScriptedTransfers:
    scripted = ScriptedTransfers()
    deps.__dict__["transfers"] = scripted  # Deps.transfers is a cached_property
    return scripted


def id_number(n: int) -> str:
    first17 = f"11010519900101{n:03d}"
    return first17 + check_char(first17)


_credits = iter(range(1, 10_000))


def credit(deps: Deps, user_id: str, fen: int) -> None:
    """Money in ``available`` with the entry that explains it (a team bonus of a fresh month)."""
    month = next(_credits)
    seed_available(user_id, f"{2000 + month // 12}-{month % 12 + 1:02d}", fen, deps.clock())


def verified(deps: Deps, name: str, fen: int = 0, n: int = 1) -> str:
    user_id = login(deps, name)
    identity.verify_real_name(user_id, "张三", id_number(n), deps)
    if fen:
        credit(deps, user_id, fen)
    return user_id


def consistent(deps: Deps, user_id: str) -> dict[str, int]:
    wallet = deps.ledger.wallet(user_id)
    assert differences(wallet, balances_from(deps.settlement.entry_movements(user_id))) == {}
    return wallet


def test_a_small_withdrawal_leaves_available_at_once_and_is_paid_when_the_user_confirms(deps, transfers):
    user = verified(deps, "amy", 3_000)
    w = withdrawals.request_withdrawal(user, 2_000, "k1", deps)
    assert w.status is WithdrawalStatus.WAIT_USER_CONFIRM and w.package_info == f"pkg-{w.out_bill_no}"
    assert consistent(deps, user) == {"pending": 0, "frozen": 0, "available": 1_000, "withdrawing": 2_000,
                                      "withdrawn": 0}
    assert transfers.creates == [(w.withdrawal_id, 2_000, "张三")]  # the verified name on every bill
    listed = [o.withdrawal_id for s in SHARDS for o in deps.withdrawals.in_flight(s, 10, None)[0]]
    assert listed == [w.withdrawal_id]  # in flight, in its user's shard only
    paid = withdrawals.apply_bill(w, transfers.end(w.out_bill_no, TransferState.SUCCESS), deps)
    assert paid.status is WithdrawalStatus.PAID
    again = withdrawals.apply_bill(deps.withdrawals.get(w.withdrawal_id), transfers.bills[w.out_bill_no], deps)
    assert again.status is WithdrawalStatus.PAID
    assert consistent(deps, user)["withdrawn"] == 2_000 and deps.ledger.wallet(user)["withdrawing"] == 0
    kinds = sorted(e["kind"] for e in deps.ledger.entries(user))
    assert kinds == ["settlement", "team_bonus", "withdrawal", "withdrawal_paid"]
    assert deps.withdrawals.in_flight(shard_of(user), 10, None)[0] == []


@pytest.mark.parametrize("state", [TransferState.FAIL, TransferState.CANCELLED])
def test_a_failed_or_cancelled_transfer_returns_the_money_with_an_entry(deps, transfers, state):
    user = verified(deps, "bob", 3_000)
    w = withdrawals.request_withdrawal(user, 2_000, "k1", deps)
    back = withdrawals.apply_bill(w, transfers.end(w.out_bill_no, state, "PAYEE_ACCOUNT_ABNORMAL"), deps)
    assert back.status is WithdrawalStatus.RETURNED
    assert consistent(deps, user)["available"] == 3_000
    assert "withdrawal_return" in {e["kind"] for e in deps.ledger.entries(user)}
    # the money is back and can be withdrawn again, under a new key
    assert withdrawals.request_withdrawal(user, 3_000, "k2", deps).status is WithdrawalStatus.WAIT_USER_CONFIRM


def unchanged(deps: Deps, user: str, before: dict[str, int]) -> None:
    assert consistent(deps, user) == before
    assert deps.withdrawals.of_user(user, 10, None)[0] == []


def test_refusals_change_nothing(deps, transfers):
    stranger = login(deps, "stranger")
    credit(deps, stranger, 5_000)
    before = deps.ledger.wallet(stranger)
    with pytest.raises(RealNameRequired):
        withdrawals.request_withdrawal(stranger, 1_000, "k", deps)
    unchanged(deps, stranger, before)

    user = verified(deps, "cat", 3_000)
    before = deps.ledger.wallet(user)
    with pytest.raises(BelowMinimum):
        withdrawals.request_withdrawal(user, 99, "k", deps)
    with pytest.raises(InsufficientBalance):
        withdrawals.request_withdrawal(user, 3_001, "k", deps)
    with pytest.raises(InsufficientBalance):  # over the day's amount too: the balance is the first reason
        withdrawals.request_withdrawal(user, 500_001, "k", deps)
    unchanged(deps, user, before)
    assert transfers.creates == []


# The refusal order (docs/wallet.md "Refusal order"), one adjacent pair at a time: a request that
# two refusals would meet gets the earlier one. (Auth, the body and the key: tests/api.)

def test_a_replayed_key_answers_its_withdrawal_before_any_refusal(deps, transfers):
    from chalicelib.store.users import PROFILE, UserItem

    user = verified(deps, "ann", 3_000)
    first = withdrawals.request_withdrawal(user, 3_000, "k", deps)  # available is 0 now
    UserItem(user, PROFILE).update(actions=[UserItem.real_name_verified.set(False)])  # (cannot happen: a test's doing)
    assert withdrawals.request_withdrawal(user, 3_000, "k", deps).withdrawal_id == first.withdrawal_id
    with pytest.raises(IdempotencyKeyReused):
        withdrawals.request_withdrawal(user, 50, "k", deps)  # below the minimum too


def test_no_real_name_comes_before_the_minimum(deps, transfers):
    stranger = login(deps, "stranger")
    with pytest.raises(RealNameRequired):
        withdrawals.request_withdrawal(stranger, 99, "k", deps)  # below the minimum, and nothing available


def test_the_minimum_comes_before_the_balance(deps, transfers):
    user = verified(deps, "bea")  # nothing available
    with pytest.raises(BelowMinimum):
        withdrawals.request_withdrawal(user, 99, "k", deps)


def test_the_balance_comes_before_the_daily_amount(deps, transfers):
    user = verified(deps, "cid", 3_000)
    with pytest.raises(InsufficientBalance) as refused:
        withdrawals.request_withdrawal(user, 999_999, "k", deps)  # the case: it answered DAILY_LIMIT_EXCEEDED
    assert refused.value.details == {"available_fen": 3_000}


def test_the_balance_comes_before_the_daily_count(deps, transfers):
    user = verified(deps, "dot", 3_000)
    for key in ("a", "b", "c"):  # the day's count (3) is used up; 2,700 left
        withdrawals.request_withdrawal(user, 100, key, deps)
    with pytest.raises(InsufficientBalance):
        withdrawals.request_withdrawal(user, 2_701, "d", deps)
    with pytest.raises(DailyLimitExceeded):
        withdrawals.request_withdrawal(user, 2_700, "d", deps)


def test_the_daily_count_comes_before_the_daily_amount(deps, transfers):
    user = verified(deps, "eli", 600_000)
    for key in ("a", "b", "c"):
        withdrawals.request_withdrawal(user, 100, key, deps)
    with pytest.raises(DailyLimitExceeded) as refused:
        withdrawals.request_withdrawal(user, 499_901, "d", deps)  # the 4th, and over 500,000 fen today
    assert refused.value.details["limit"] == "daily_count"
    user = verified(deps, "fin", 600_000, n=2)
    withdrawals.request_withdrawal(user, 100, "a", deps)
    with pytest.raises(DailyLimitExceeded) as refused:
        withdrawals.request_withdrawal(user, 499_901, "b", deps)
    assert refused.value.details["limit"] == "daily_amount"


def test_the_transaction_refuses_in_the_same_order_as_the_reading(deps, transfers, monkeypatch):
    """A request decided on a stale read (another request committed in between) is refused by the
    transaction itself: over both the balance and the day's limits, the balance is the reason."""
    from chalicelib.store.withdrawals import RequestReads

    user = verified(deps, "gil", 3_000)
    for key in ("a", "b", "c"):
        withdrawals.request_withdrawal(user, 100, key, deps)
    before = consistent(deps, user)
    monkeypatch.setattr(deps.withdrawals, "reads", lambda *_: RequestReads(None, 1_000_000, 0, 0))
    with pytest.raises(InsufficientBalance) as refused:
        withdrawals.request_withdrawal(user, 2_701, "d", deps)  # over the balance and the count
    assert refused.value.details == {}  # the transaction does not know the balance
    with pytest.raises(DailyLimitExceeded):
        withdrawals.request_withdrawal(user, 2_700, "d", deps)  # over the count only
    assert consistent(deps, user) == before


def test_the_daily_count_and_amount_limits_count_every_request_of_the_shanghai_day(deps, transfers, clock):
    user = verified(deps, "dan", 1_000_000)
    for key in ("a", "b", "c"):
        withdrawals.request_withdrawal(user, 100, key, deps)
    with pytest.raises(DailyLimitExceeded):
        withdrawals.request_withdrawal(user, 100, "d", deps)
    clock.advance(days=1)  # a new day in Shanghai
    withdrawals.request_withdrawal(user, 40_000, "e", deps)
    withdrawals.request_withdrawal(user, 40_000, "f", deps)
    withdrawals.request_withdrawal(user, 40_000, "g", deps)
    clock.advance(days=1)
    for key in ("h", "i"):
        assert withdrawals.request_withdrawal(user, 50_000, key, deps).status is WithdrawalStatus.WAIT_USER_CONFIRM
    with pytest.raises(DailyLimitExceeded):
        withdrawals.request_withdrawal(user, 450_000, "j", deps)  # 100,000 + 450,000 > 500,000
    assert consistent(deps, user)["withdrawing"] == 300 + 120_000 + 100_000


def test_a_withdrawal_is_never_made_from_clawed_back_money(deps, transfers):
    user = verified(deps, "eve", 1_000)
    # a refund after settlement clawed back more than there was: available is negative
    from pynamodb.transactions import TransactWrite

    from chalicelib.store.ledger import WALLET, LedgerItem, entry_key, touch

    with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
        tx.save(LedgerItem(user, entry_key("o1", 1, "clawback"), order_id="o1", level=1, amount_fen=3_000,
                           kind="clawback", at=deps.clock(), status="available>-"))
        tx.update(LedgerItem(user, WALLET), actions=[LedgerItem.available_fen.add(-3_000), touch(user, deps.clock())])
    assert consistent(deps, user)["available"] == -2_000
    with pytest.raises(InsufficientBalance):
        withdrawals.request_withdrawal(user, 100, "k", deps)
    credit(deps, user, 2_500)  # future commission nets the debt first
    with pytest.raises(InsufficientBalance):
        withdrawals.request_withdrawal(user, 501, "k", deps)
    assert withdrawals.request_withdrawal(user, 500, "k", deps).amount_fen == 500


def test_the_same_key_answers_the_same_withdrawal_and_another_amount_is_refused(deps, transfers):
    user = verified(deps, "fay", 3_000)
    first = withdrawals.request_withdrawal(user, 1_000, "same", deps)
    again = withdrawals.request_withdrawal(user, 1_000, "same", deps)
    assert again.withdrawal_id == first.withdrawal_id
    with pytest.raises(IdempotencyKeyReused):
        withdrawals.request_withdrawal(user, 1_500, "same", deps)
    assert consistent(deps, user)["withdrawing"] == 1_000
    assert len(transfers.creates) == 1
    other = verified(deps, "gus", 3_000, n=2)  # the same key of another user is another withdrawal
    assert withdrawals.request_withdrawal(other, 1_000, "same", deps).withdrawal_id != first.withdrawal_id


def test_above_the_threshold_a_withdrawal_waits_for_review_then_is_paid_on_approval(deps, transfers):
    user = verified(deps, "hal", 300_000)
    w = withdrawals.request_withdrawal(user, 250_000, "big", deps)
    assert w.status is WithdrawalStatus.REVIEWING and transfers.creates == []
    assert consistent(deps, user)["withdrawing"] == 250_000  # out of available while reviewed
    queue, _ = withdrawals.review_queue(10, None, deps)
    assert [q.withdrawal_id for q in queue] == [w.withdrawal_id]
    approved = withdrawals.approve(w.withdrawal_id, "admin", deps)
    assert approved.status is WithdrawalStatus.WAIT_USER_CONFIRM and approved.decided_by == "admin"
    assert transfers.creates == [(w.withdrawal_id, 250_000, "张三")]  # the name, as on every bill
    with pytest.raises(NotUnderReview):
        withdrawals.approve(w.withdrawal_id, "admin", deps)
    with pytest.raises(NotUnderReview):
        withdrawals.reject(w.withdrawal_id, "admin", "late", deps)
    assert withdrawals.review_queue(10, None, deps)[0] == []
    with pytest.raises(WithdrawalNotFound):
        withdrawals.approve("wnope", "admin", deps)


def test_a_rejected_withdrawal_returns_the_money_once(deps, transfers):
    user = verified(deps, "ivy", 300_000)
    w = withdrawals.request_withdrawal(user, 250_000, "big", deps)
    rejected = withdrawals.reject(w.withdrawal_id, "admin", "复核未通过", deps)
    assert rejected.status is WithdrawalStatus.RETURNED and rejected.reason == "rejected: 复核未通过"
    with pytest.raises(NotUnderReview):
        withdrawals.reject(w.withdrawal_id, "admin", "again", deps)
    with pytest.raises(NotUnderReview):
        withdrawals.approve(w.withdrawal_id, "admin", deps)
    assert consistent(deps, user)["available"] == 300_000 and transfers.creates == []


def test_wechat_unreachable_leaves_it_in_flight_and_polling_creates_the_same_bill_again(deps, transfers, clock):
    user = verified(deps, "jay", 3_000)
    transfers.down = True
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    assert w.status is WithdrawalStatus.TRANSFERRING
    assert poll_transfers(clock(), deps)["unreachable"] == 1
    transfers.down = False
    assert poll_transfers(clock(), deps) == {"checked": 1, "paid": 0, "returned": 0, "waiting": 1,
                                                         "unreachable": 0}
    assert {no for no, _, _ in transfers.creates} == {w.withdrawal_id}  # never a new bill number
    assert deps.withdrawals.get(w.withdrawal_id).status is WithdrawalStatus.WAIT_USER_CONFIRM
    transfers.end(w.out_bill_no, TransferState.SUCCESS)
    assert poll_transfers(clock(), deps)["paid"] == 1
    assert poll_transfers(clock(), deps)["checked"] == 0
    assert consistent(deps, user)["withdrawn"] == 2_000


def test_polling_one_withdrawal_per_slice_ends_as_one_slice_per_part_does(deps, transfers, clock):
    """Nine withdrawals in flight of three users (their shards' parts): with the deadline passed
    at once, a slice does one withdrawal and hands back a cursor right after it, so a shard of k
    withdrawals takes k slices; each is asked for once per run and paid once."""
    users = [verified(deps, f"poller{i}", 3_000, n=10 + i) for i in range(3)]
    transfers.down = True
    sent = [withdrawals.request_withdrawal(u, 1_000, f"k{j}", deps) for u in users for j in range(3)]
    assert {w.status for w in sent} == {WithdrawalStatus.TRANSFERRING}
    transfers.down = False
    in_shard = Counter(shard_of(u) for u in users for _ in range(3))
    first = run_job("poll_transfers", clock(), deps, slice_budget=0)
    assert counts(first) == {"checked": 9, "paid": 0, "returned": 0, "waiting": 9, "unreachable": 0}
    assert first["slices"] == len(SHARDS) + sum(k - 1 for k in in_shard.values())
    assert {deps.withdrawals.get(w.withdrawal_id).status for w in sent} == {WithdrawalStatus.WAIT_USER_CONFIRM}
    for w in sent:
        transfers.end(w.out_bill_no, TransferState.SUCCESS)
    assert counts(run_job("poll_transfers", clock(), deps, slice_budget=0))["paid"] == 9
    assert poll_transfers(clock(), deps)["checked"] == 0
    for user in users:
        assert consistent(deps, user)["withdrawn"] == 3_000
        assert len([e for e in deps.ledger.entries(user) if e["kind"] == "withdrawal_paid"]) == 3


def test_a_polling_part_that_is_not_a_shard_is_refused(deps):
    from chalicelib.domain.invariants import InvariantBroken
    from chalicelib.jobs.engine import Deadline

    with pytest.raises(InvariantBroken):
        withdrawals.poll_part("in_flight", None, deps.clock(), deps, Deadline.after(60))


def test_merchant_balance_too_low_is_retried_later_and_other_refusals_return_the_money(deps, transfers, clock):
    user = verified(deps, "kim", 5_000)
    transfers.refuse = "NOT_ENOUGH"
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    assert w.status is WithdrawalStatus.TRANSFERRING
    transfers.refuse = None
    assert poll_transfers(clock(), deps)["waiting"] == 1
    transfers.refuse = "PAYEE_ACCOUNT_ABNORMAL"
    refused = withdrawals.request_withdrawal(user, 1_000, "k2", deps)
    assert refused.status is WithdrawalStatus.RETURNED and refused.reason == "PAYEE_ACCOUNT_ABNORMAL"
    assert consistent(deps, user)["available"] == 3_000


def test_a_user_sees_only_their_own_withdrawals(deps, transfers):
    amy = verified(deps, "amy", 3_000)
    bob = verified(deps, "bob", 3_000, n=2)
    w = withdrawals.request_withdrawal(amy, 1_000, "k", deps)
    assert withdrawals.one_of_mine(w.withdrawal_id, amy, deps).amount_fen == 1_000
    with pytest.raises(WithdrawalNotFound):
        withdrawals.one_of_mine(w.withdrawal_id, bob, deps)
    assert [x.withdrawal_id for x in withdrawals.mine(amy, 10, None, deps)[0]] == [w.withdrawal_id]
    assert withdrawals.mine(bob, 10, None, deps)[0] == []


def test_reconciliation_agrees_with_withdrawal_entries(deps, transfers, clock):
    user = verified(deps, "lee", 3_000)
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    withdrawals.apply_bill(w, transfers.end(w.out_bill_no, TransferState.SUCCESS), deps)
    assert reconcile(clock() + timedelta(hours=1), deps)["differences"] == 0


def test_a_refusal_for_a_bill_that_exists_after_all_does_not_return_the_money(deps, transfers):
    user = verified(deps, "mo", 5_000)
    transfers.down = True
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    transfers.down = False
    transfers.create_bill(w.out_bill_no, "openid", 2_000, "remark", "张三")  # it arrived; its answer did not
    transfers.refuse = "INVALID_REQUEST"  # "单号已存在但信息不一致"
    after = withdrawals.submit(w, deps)  # the request's own retry, or an approval's
    assert after.status is WithdrawalStatus.WAIT_USER_CONFIRM
    assert consistent(deps, user)["withdrawing"] == 2_000
    transfers.bills.clear()  # WeChat has no such bill: now the refusal returns the money
    assert withdrawals.submit(deps.withdrawals.get(w.withdrawal_id), deps).status is WithdrawalStatus.RETURNED
    assert consistent(deps, user)["available"] == 5_000


# The verified name on every bill, checked by WeChat (the simulator, as in make dev) -------------

def simulator(deps: Deps) -> TransferSimulator:
    sim = deps.transfers
    assert isinstance(sim, TransferSimulator)
    return sim


def withdrawal_returns(deps: Deps, user: str) -> list[dict]:
    return [e for e in deps.ledger.entries(user) if e["kind"] == "withdrawal_return"]


def test_a_name_that_is_not_the_accounts_real_name_fails_the_bill_and_the_money_comes_back_once(deps, clock):
    """DOMAIN.md §9: the ID number verified is someone else's (张三), the WeChat account is 李四's.
    The bill carries the verified name, WeChat compares it when the user confirms and fails the
    bill (NAME_NOT_CORRECT); the notification, its replays and the polling job return it once."""
    sim = simulator(deps)
    user = verified(deps, "mallory", 3_000)
    account = deps.users.get(user)
    assert account is not None
    sim.know_real_name(account.openid, "李四")
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)  # below 2,000 yuan: named all the same
    assert w.status is WithdrawalStatus.WAIT_USER_CONFIRM
    headers, body = sim.confirm(w.out_bill_no, "success", clock())  # the user confirms; WeChat compares
    back = withdrawals.handle_transfer_notification(headers, body, deps)
    assert back is not None and (back.status, back.reason) == (WithdrawalStatus.RETURNED, "NAME_NOT_CORRECT")
    for _ in range(2):  # WeChat repeats its notification; the polling job runs too
        again = withdrawals.handle_transfer_notification(headers, body, deps)
        assert again is not None and again.status is WithdrawalStatus.RETURNED
        poll_transfers(clock(), deps)
    wallet = consistent(deps, user)
    assert (wallet["available"], wallet["withdrawing"], wallet["withdrawn"]) == (3_000, 0, 0)
    assert len(withdrawal_returns(deps, user)) == 1


def test_the_accounts_own_name_is_paid(deps, clock):
    sim = simulator(deps)
    user = verified(deps, "zhang", 3_000)
    account = deps.users.get(user)
    assert account is not None
    sim.know_real_name(account.openid, "张三")
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    paid = withdrawals.handle_transfer_notification(*sim.confirm(w.out_bill_no, "success", clock()), deps)
    assert paid is not None and paid.status is WithdrawalStatus.PAID
    assert consistent(deps, user)["withdrawn"] == 2_000 and withdrawal_returns(deps, user) == []


def test_a_payee_without_a_stored_name_is_never_paid_and_the_money_comes_back(deps, transfers):
    from chalicelib.store.users import PROFILE, UserItem

    user = verified(deps, "nameless", 3_000)
    transfers.down = True  # the request leaves it in flight
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    transfers.down = False
    UserItem(user, PROFILE).update(actions=[UserItem.real_name.remove()])  # (cannot happen: a test's doing)
    after = withdrawals.submit(w, deps)
    assert (after.status, after.reason) == (WithdrawalStatus.RETURNED, "REAL_NAME_MISSING")
    assert transfers.creates == [(w.withdrawal_id, 2_000, "张三")]  # the request's attempt only: none unnamed
    assert consistent(deps, user)["available"] == 3_000
