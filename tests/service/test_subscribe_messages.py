"""Subscribe messages on moto: consents counted and spent once, each of the four messages sent
once however often its cause is reported, WeChat failing never failing the business write and
the job sending later, no consent (or no template) sending nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import MessageRules, Rules
from chalicelib.domain.after_sales import CaseKind
from chalicelib.domain.catalog import Product
from chalicelib.domain.notices import order_shipped
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.refunds import RefundLine
from chalicelib.domain.subscriptions import LEASE, MessageKind, MessageState, UnknownTemplate
from chalicelib.domain.withdrawals import WithdrawalStatus
from chalicelib.jobs import run_job
from chalicelib.services import after_sales, case_refunds, orders, referrals, subscriptions, withdrawals
from chalicelib.services.sessions import Caller
from chalicelib.wechat.subscribe_simulator import SubscribeSimulator
from chalicelib.wechat.transfer_results import TransferState
from tests.service.test_orders import distributor, login, paid_order
from tests.service.test_settlement import SHANGHAI_MIDNIGHT_13TH, completed_order, counts, settle
from tests.service.test_withdrawals import ScriptedTransfers, verified

TEMPLATES = {"commission_credited": "T-commission", "order_shipped": "T-shipped", "withdrawal_paid": "T-withdrawal",
             "after_sales_decided": "T-after-sales"}


def configure(deps: Deps, **overrides: str) -> None:
    ids = {**TEMPLATES, **overrides}
    defaults = MessageRules()
    messages = {kind: {**getattr(defaults, kind).model_dump(), "template_id": ids[kind]} for kind in TEMPLATES}
    deps.settings = deps.settings.model_copy(update={"rules": Rules(messages=MessageRules(**messages))})


@pytest.fixture
def sim(deps: Deps) -> SubscribeSimulator:
    configure(deps)
    sender = deps.subscribe_messages
    assert isinstance(sender, SubscribeSimulator)
    return sender


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def accept(deps: Deps, user_id: str, kind: str, times: int = 1) -> None:
    for _ in range(times):
        subscriptions.record_choices(user_id, {TEMPLATES[kind]: "accept"}, deps)


def remaining(deps: Deps, user_id: str, kind: str) -> int:
    return {s.kind.value: s.remaining for s in subscriptions.my_subscriptions(user_id, deps)}[kind]


def delivered(sim: SubscribeSimulator, deps: Deps, user_id: str) -> list[dict[str, object]]:
    user = deps.users.get(user_id)
    assert user is not None
    return sim.sent(user.openid or "")


def send_job(deps: Deps) -> dict[str, int]:
    return counts(run_job("send_messages", deps.clock(), deps))


# Consents

def test_each_accept_counts_one_consent_and_reject_ban_filter_count_none(deps, sim):
    buyer = login(deps, "buyer")
    subscriptions.record_choices(buyer, {"T-shipped": "accept", "T-after-sales": "reject", "T-withdrawal": "ban",
                                         "T-commission": "filter"}, deps)
    accept(deps, buyer, "order_shipped")
    left = {s.kind.value: (s.template_id, s.remaining) for s in subscriptions.my_subscriptions(buyer, deps)}
    assert left == {"order_shipped": ("T-shipped", 2), "after_sales_decided": ("T-after-sales", 0),
                    "withdrawal_paid": ("T-withdrawal", 0), "commission_credited": ("T-commission", 0)}


def test_a_template_not_in_the_settings_is_refused_and_nothing_is_recorded(deps, sim):
    buyer = login(deps, "buyer")
    with pytest.raises(UnknownTemplate) as refused:
        subscriptions.record_choices(buyer, {"T-shipped": "accept", "T-other": "accept"}, deps)
    assert refused.value.details["template_ids"] == ["T-other"]
    assert remaining(deps, buyer, "order_shipped") == 0


# Order shipped

def test_no_consent_sends_nothing_and_writes_nothing(deps, sim, product):
    buyer = login(deps, "buyer")
    order = orders.ship(paid_order(deps, buyer, product), "SF", "SF1234567", deps)
    assert order.status is OrderStatus.SHIPPED
    assert sim.recent() == [] and deps.subscriptions.messages(buyer) == []


def test_a_kind_without_a_template_id_sends_nothing_even_with_a_consent(deps, sim, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    configure(deps, order_shipped="")
    orders.ship(paid_order(deps, buyer, product), "SF", "SF1234567", deps)
    assert sim.recent() == [] and deps.subscriptions.messages(buyer) == []


def test_an_order_shipped_twice_sends_its_buyer_one_message_spending_one_consent(deps, sim, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped", times=2)
    order_id = paid_order(deps, buyer, product)
    for _ in range(2):
        order = orders.ship(order_id, "SF", "SF1234567", deps, "u-admin")
    assert subscriptions.notify(order_shipped(order, deps.clock()), deps) == "already"  # the cause a third time
    [body] = delivered(sim, deps, buyer)
    assert body["template_id"] == "T-shipped" and body["page"] == f"pages/order/detail?id={order_id}"
    assert body["data"]["character_string1"] == {"value": order_id} and body["data"]["thing2"] == {"value": "顺丰"}
    assert remaining(deps, buyer, "order_shipped") == 1
    [message] = deps.subscriptions.messages(buyer)
    assert (message.state, message.attempts, message.due_at) == (MessageState.SENT, 1, None)


def test_one_consent_allows_one_message_the_next_cause_sends_nothing(deps, sim, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    first, second = paid_order(deps, buyer, product), paid_order(deps, buyer, product)
    orders.ship(first, "SF", "SF1234567", deps)
    orders.ship(second, "SF", "SF7654321", deps)
    assert [b["data"]["character_string1"]["value"] for b in delivered(sim, deps, buyer)] == [first]
    assert remaining(deps, buyer, "order_shipped") == 0


def test_wechat_down_leaves_the_order_shipped_and_the_job_sends_the_message_once(deps, sim, clock, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    order_id = paid_order(deps, buyer, product)
    sim.fail(None)
    assert orders.ship(order_id, "SF", "SF1234567", deps).status is OrderStatus.SHIPPED
    [message] = deps.subscriptions.messages(buyer)
    assert (message.state, message.attempts) == (MessageState.PENDING, 1) and "unreachable" in message.last_error
    assert send_job(deps)["sent"] == 0  # not due yet
    clock.advance(seconds=LEASE.total_seconds() * 2)
    sim.fail(-1)  # busy once more
    assert send_job(deps)["pending"] == 1
    clock.advance(hours=1)
    assert send_job(deps)["sent"] == 1
    clock.advance(hours=1)
    assert send_job(deps) == {"sent": 0, "pending": 0, "refused": 0, "failed": 0, "skipped": 0}
    assert len(delivered(sim, deps, buyer)) == 1
    assert deps.orders.get(order_id).status is OrderStatus.SHIPPED


def test_a_user_who_turned_the_template_off_is_refused_once_and_never_retried(deps, sim, clock, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    sim.cancel(deps.users.get(buyer).openid, "T-shipped")
    orders.ship(paid_order(deps, buyer, product), "SF", "SF1234567", deps)
    [message] = deps.subscriptions.messages(buyer)
    assert message.state is MessageState.REFUSED and message.last_error.startswith("43101")
    clock.advance(days=1)
    assert send_job(deps)["sent"] == 0 and sim.calls == 1


def test_a_template_wechat_refuses_fails_at_once(deps, sim, product):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    sim.fail(47003)
    orders.ship(paid_order(deps, buyer, product), "SF", "SF1234567", deps)
    [message] = deps.subscriptions.messages(buyer)
    assert message.state is MessageState.FAILED and message.due_at is None


def test_an_error_in_the_message_path_never_fails_the_business_write(deps, sim, product, monkeypatch):
    buyer = login(deps, "buyer")
    accept(deps, buyer, "order_shipped")
    order_id = paid_order(deps, buyer, product)

    def broken(*_: object) -> bool:
        raise RuntimeError("the support table is down")

    monkeypatch.setattr(deps.subscriptions, "enqueue", broken)
    assert orders.ship(order_id, "SF", "SF1234567", deps).status is OrderStatus.SHIPPED
    assert deps.orders.get(order_id).status is OrderStatus.SHIPPED and sim.recent() == []
    assert remaining(deps, buyer, "order_shipped") == 1  # nothing spent


# Commission credited (available after its hold)

def test_a_settlement_run_twice_queues_each_commission_once_and_the_job_sends_it(deps, sim, clock, product):
    seller, _, order_id = completed_order(deps, product)
    accept(deps, seller, "commission_credited", times=3)
    at = SHANGHAI_MIDNIGHT_13TH + timedelta(minutes=10)
    assert settle(at, deps)["settled"] == 1 and settle(at, deps)["settled"] == 0
    assert delivered(sim, deps, seller) == []  # the settlement makes no WeChat call
    clock.at = at
    assert send_job(deps)["sent"] == 1 and send_job(deps)["sent"] == 0
    [body] = delivered(sim, deps, seller)
    assert body["data"] == {"amount1": {"value": "10.00元"}, "character_string2": {"value": order_id},
                            "time3": {"value": "2026年11月13日 00:10"}}
    assert remaining(deps, seller, "commission_credited") == 2


# Withdrawal paid

def test_a_withdrawal_paid_reported_twice_sends_one_message(deps, sim):
    transfers = ScriptedTransfers()
    deps.__dict__["transfers"] = transfers
    user = verified(deps, "amy", 3_000)
    accept(deps, user, "withdrawal_paid", times=2)
    w = withdrawals.request_withdrawal(user, 2_000, "k1", deps)
    bill = transfers.end(w.out_bill_no, TransferState.SUCCESS)
    assert withdrawals.apply_bill(w, bill, deps).status is WithdrawalStatus.PAID
    assert withdrawals.apply_bill(deps.withdrawals.get(w.withdrawal_id), bill, deps).status is WithdrawalStatus.PAID
    [body] = delivered(sim, deps, user)
    assert body["data"] == {"amount1": {"value": "20.00元"}, "time2": {"value": "2026年11月10日 12:00"}}
    assert remaining(deps, user, "withdrawal_paid") == 1


# After-sales decided

@pytest.fixture
def shipped(deps: Deps, product: str) -> tuple[str, str]:
    _, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product, 2)
    orders.ship(order_id, "SF", "SF1234567", deps)
    return buyer, order_id


def open_case(deps: Deps, buyer: str, order_id: str, kind: CaseKind = CaseKind.REFUND_ONLY) -> str:
    return after_sales.open_case(order_id, Caller(buyer, "user"),
                                 after_sales.Opening(kind, [RefundLine("p1", 1)], "破损"), deps).case_id


def test_an_approval_repeated_sends_the_buyer_one_message(deps, sim, shipped):
    buyer, order_id = shipped
    accept(deps, buyer, "after_sales_decided", times=2)
    case_id = open_case(deps, buyer, order_id)
    for _ in range(2):
        case_refunds.approve(case_id, None, deps, "admin")
    [body] = delivered(sim, deps, buyer)
    assert body["page"] == f"pages/after-sales/detail?id={case_id}"
    assert body["data"] == {"character_string1": {"value": order_id}, "phrase2": {"value": "已同意"},
                            "amount3": {"value": "50.00元"}, "thing4": {"value": "售后申请已同意"}}


def test_a_rejection_sends_its_reason_and_the_later_receipt_of_an_approved_return_sends_nothing_more(
        deps, sim, shipped):
    buyer, order_id = shipped
    accept(deps, buyer, "after_sales_decided", times=3)
    rejected = open_case(deps, buyer, order_id)
    after_sales.reject(rejected, "照片显示商品完好", deps, "admin")
    returned = open_case(deps, buyer, order_id, CaseKind.RETURN_REFUND)
    case_refunds.approve(returned, 5_000, deps, "admin")
    after_sales.ship_return(returned, Caller(buyer, "user"), "中通", "ZT7654321", deps)
    case_refunds.receive(returned, deps, "admin")
    results = [(b["data"]["phrase2"]["value"], b["data"]["thing4"]["value"]) for b in delivered(sim, deps, buyer)]
    assert results == [("已拒绝", "照片显示商品完好"), ("已同意", "售后申请已同意")]
    assert remaining(deps, buyer, "after_sales_decided") == 1
    assert {m.kind for m in deps.subscriptions.messages(buyer)} == {MessageKind.AFTER_SALES_DECIDED}


def test_the_send_job_refuses_a_part_that_is_not_a_shard(deps):
    from chalicelib.domain.invariants import InvariantBroken
    from chalicelib.jobs.engine import Deadline

    with pytest.raises(InvariantBroken):
        subscriptions.send_part("zz", None, deps.clock(), deps, Deadline.after(10))


def test_the_hook_costs_nothing_without_a_template_one_read_without_consent_three_calls_to_send(deps, sim):
    from bench.meter import DynamoMeter
    from chalicelib.domain.notices import withdrawal_paid
    from chalicelib.domain.withdrawals import Withdrawal
    from chalicelib.store.tables import all_models

    user = login(deps, "amy")
    # the rules in force are cached per process for rules_refresh_seconds (monotonic): the longest
    # allowed, so that a slow machine does not read them again inside a count
    deps.settings = deps.settings.model_copy(update={"rules_refresh_seconds": 10})
    meter = DynamoMeter()
    meter.attach_models(all_models())

    def cost(n: int) -> str:
        w = Withdrawal(f"w{n}", user, 100, WithdrawalStatus.PAID, deps.clock(), f"w{n}")
        deps.rules  # noqa: B018 (the rules in force, cached per process: read before the count)
        meter.reset()
        subscriptions.notify(withdrawal_paid(w, deps.clock()), deps)
        return meter.take().describe_calls()

    assert cost(1) == "GetItem×1"  # no consent
    accept(deps, user, "withdrawal_paid")
    assert cost(2) == "GetItem×1, TransactWriteItems×1 (2 items), UpdateItem×1"  # queued, sent, recorded
    configure(deps, withdrawal_paid="")
    assert cost(3) == "none"  # the kind is off
