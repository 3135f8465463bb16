"""Subscribe messages against DynamoDB Local: one cause reported at once from many places sends
one message, causes racing for fewer consents send as many as there are consents, and two
senders (the job's parts run twice) never send one message twice (docs/subscribe-messages.md)."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.notices import withdrawal_paid
from chalicelib.domain.shards import shard_of
from chalicelib.domain.subscriptions import LEASE, MessageState
from chalicelib.domain.withdrawals import Withdrawal, WithdrawalStatus
from chalicelib.jobs.engine import Deadline
from chalicelib.services import orders, subscriptions
from chalicelib.wechat.subscribe_simulator import SubscribeSimulator
from tests.conftest import MutableClock
from tests.race.concurrency import login, race
from tests.service.test_subscribe_messages import configure

pytestmark = pytest.mark.race


@pytest.fixture
def sim(deps: Deps) -> SubscribeSimulator:
    configure(deps)
    sender = deps.subscribe_messages
    assert isinstance(sender, SubscribeSimulator)
    return sender


def paid(deps: Deps, user_id: str, n: int) -> Withdrawal:
    return Withdrawal(f"w{uuid.uuid4().hex[:12]}{n}", user_id, 100 * n, WithdrawalStatus.PAID, deps.clock(), "b")


def openid(deps: Deps, user_id: str) -> str:
    user = deps.users.get(user_id)
    assert user is not None and user.openid
    return user.openid


def test_one_cause_reported_six_times_at_once_sends_one_message_and_spends_one_consent(deps, sim):
    user = login(deps, "amy")
    subscriptions.record_choices(user, {"T-withdrawal": "accept"}, deps)
    subscriptions.record_choices(user, {"T-withdrawal": "accept"}, deps)
    notice = withdrawal_paid(paid(deps, user, 1), deps.clock())
    outcomes = race([lambda: subscriptions.notify(notice, deps) for _ in range(6)])
    assert Counter(outcomes) == {"sent": 1, "already": 5}
    assert len(sim.sent(openid(deps, user))) == 1
    assert {s.kind.value: s.remaining for s in subscriptions.my_subscriptions(user, deps)}["withdrawal_paid"] == 1


def test_five_causes_racing_for_two_consents_send_two_messages(deps, sim):
    user = login(deps, "bob")
    for _ in range(2):
        subscriptions.record_choices(user, {"T-withdrawal": "accept"}, deps)
    notices = [withdrawal_paid(paid(deps, user, n), deps.clock()) for n in range(1, 6)]
    outcomes = race([lambda n=n: subscriptions.notify(n, deps) for n in notices])
    assert outcomes.count("sent") == 2 and set(outcomes) <= {"sent", "already", "no_consent"}
    assert len(sim.sent(openid(deps, user))) == 2
    assert len(deps.subscriptions.messages(user)) == 2


def test_an_order_shipped_by_four_requests_at_once_sends_its_buyer_one_message(deps, sim):
    from tests.service.test_orders import paid_order

    product = f"p{uuid.uuid4().hex[:8]}"
    deps.products.put_if_absent(Product(product, "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    buyer = login(deps, "buyer")
    for _ in range(3):
        subscriptions.record_choices(buyer, {"T-shipped": "accept"}, deps)
    order_id = paid_order(deps, buyer, product)
    outcomes = race([lambda: orders.ship(order_id, "SF", "SF1234567", deps).status.value for _ in range(4)])
    assert outcomes == ["shipped"] * 4
    assert len(sim.sent(openid(deps, buyer))) == 1
    assert {s.kind.value: s.remaining for s in subscriptions.my_subscriptions(buyer, deps)}["order_shipped"] == 2


def test_the_send_job_run_twice_at_once_sends_a_pending_message_once(deps, sim):
    clock = MutableClock(deps.clock())
    deps.clock = clock
    user = login(deps, "cat")
    subscriptions.record_choices(user, {"T-withdrawal": "accept"}, deps)
    sim.fail(None)
    assert subscriptions.notify(withdrawal_paid(paid(deps, user, 3), clock()), deps) == "pending"
    clock.advance(seconds=LEASE.total_seconds() + 1)
    shard = shard_of(user)
    calls_before = sim.calls
    results = race([lambda: subscriptions.send_part(shard, None, clock(), deps, Deadline.after(30)).counts
                    for _ in range(3)])
    assert sum(r["sent"] for r in results) == 1
    assert sim.calls - calls_before == 1
    [message] = deps.subscriptions.messages(user)
    assert (message.state, message.attempts) == (MessageState.SENT, 2)
    assert subscriptions.send_part(shard, None, clock.advance(hours=2), deps, Deadline.after(30)).counts["sent"] == 0
