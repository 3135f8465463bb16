"""Withdrawals under concurrency, on DynamoDB Local: money leaves once, ends once."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from bench.settlement import seed_available
from chalicelib.bootstrap import Deps
from chalicelib.domain.identity import check_char
from chalicelib.domain.withdrawals import Withdrawal, WithdrawalStatus
from chalicelib.services import identity, settlement, withdrawals
from tests.race.concurrency import login, race
from tests.service.test_withdrawals import poll_transfers

pytestmark = pytest.mark.race


def id_number() -> str:
    """A valid resident ID number no other test of the session uses (the hash is unique per user)."""
    first17 = f"110105{random.randrange(1950, 2000)}0{random.randrange(1, 10)}1{random.randrange(1, 10)}" \
              f"{random.randrange(1000):03d}"
    return first17 + check_char(first17)


def earner(deps: Deps, fen: int) -> str:
    user_id = login(deps, "wd")
    identity.verify_real_name(user_id, "李四", id_number(), deps)
    seed_available(user_id, "2026-10", fen, deps.clock())
    return user_id


def assert_consistent(deps: Deps, user_id: str) -> dict[str, int]:
    assert settlement.wallet_differences(user_id, deps) == {}
    return deps.ledger.wallet(user_id)


def test_five_racing_withdrawals_of_20_yuan_from_30_yuan_exactly_one_succeeds(deps):
    user = earner(deps, 3_000)
    results = race([lambda k=k: withdrawals.request_withdrawal(user, 2_000, f"race-{k}", deps) for k in range(5)])
    won = [r for r in results if isinstance(r, Withdrawal)]
    assert len(won) == 1 and won[0].status is WithdrawalStatus.WAIT_USER_CONFIRM
    assert Counter(r for r in results if not isinstance(r, Withdrawal)) == {"INSUFFICIENT_BALANCE": 4}
    wallet = assert_consistent(deps, user)
    assert (wallet["available"], wallet["withdrawing"]) == (1_000, 2_000)
    assert len(withdrawals.mine(user, 10, None, deps)[0]) == 1


def test_racing_withdrawals_over_both_the_balance_and_the_days_count_are_refused_for_the_balance(deps):
    """Two of the day's three withdrawals made, 2,800 fen left: five of 2,000 at once. One wins;
    each loser, refused by its read or by the transaction (then over the balance and the count
    at once), answers INSUFFICIENT_BALANCE: the balance is the first reason (docs/wallet.md)."""
    user = earner(deps, 3_000)
    for key in ("a", "b"):
        withdrawals.request_withdrawal(user, 100, key, deps)
    results = race([lambda k=k: withdrawals.request_withdrawal(user, 2_000, f"race-{k}", deps) for k in range(5)])
    assert len([r for r in results if isinstance(r, Withdrawal)]) == 1
    assert Counter(r for r in results if not isinstance(r, Withdrawal)) == {"INSUFFICIENT_BALANCE": 4}
    wallet = assert_consistent(deps, user)
    assert (wallet["available"], wallet["withdrawing"]) == (800, 2_200)


def test_one_key_sent_five_times_at_once_is_one_withdrawal(deps):
    user = earner(deps, 3_000)
    results = race([lambda: withdrawals.request_withdrawal(user, 1_000, "same", deps) for _ in range(5)])
    assert all(isinstance(r, Withdrawal) for r in results), results
    assert len({r.withdrawal_id for r in results}) == 1
    wallet = assert_consistent(deps, user)
    assert (wallet["available"], wallet["withdrawing"]) == (2_000, 1_000)


def test_notifications_and_the_polling_job_racing_end_a_withdrawal_once(deps):
    user = earner(deps, 3_000)
    w = withdrawals.request_withdrawal(user, 2_000, "k", deps)
    headers, body = deps.transfers.confirm(w.out_bill_no, "success", deps.clock())  # type: ignore[attr-defined]
    calls = [lambda: withdrawals.handle_transfer_notification(headers, body, deps) for _ in range(5)]
    calls += [lambda: poll_transfers(deps.clock(), deps) for _ in range(3)]
    race(calls)
    wallet = assert_consistent(deps, user)
    assert (wallet["available"], wallet["withdrawing"], wallet["withdrawn"]) == (1_000, 0, 2_000)
    paid = [e for e in deps.ledger.entries(user) if e["kind"] == "withdrawal_paid"]
    assert len(paid) == 1 and deps.withdrawals.get(w.withdrawal_id).status is WithdrawalStatus.PAID


def test_approve_and_reject_racing_decide_once(deps):
    user = earner(deps, 300_000)
    w = withdrawals.request_withdrawal(user, 100_000, "big", deps)
    assert w.status is WithdrawalStatus.REVIEWING
    results = race([lambda: withdrawals.approve(w.withdrawal_id, "a1", deps),
                    lambda: withdrawals.reject(w.withdrawal_id, "a2", "no", deps),
                    lambda: withdrawals.approve(w.withdrawal_id, "a3", deps),
                    lambda: withdrawals.reject(w.withdrawal_id, "a4", "no", deps)])
    decided = [r for r in results if isinstance(r, Withdrawal)]
    assert len(decided) == 1 and Counter(r for r in results if not isinstance(r, Withdrawal)) == \
        {"NOT_UNDER_REVIEW": 3}
    wallet = assert_consistent(deps, user)
    if decided[0].status is WithdrawalStatus.RETURNED:
        assert (wallet["available"], wallet["withdrawing"]) == (300_000, 0)
    else:
        assert decided[0].status is WithdrawalStatus.WAIT_USER_CONFIRM
        assert (wallet["available"], wallet["withdrawing"]) == (200_000, 100_000)
