"""The order path's use cases on moto: jobs, clawback, self-purchase, payee rules."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import CommissionRules, Rules
from chalicelib.domain.catalog import Product
from chalicelib.services import auth, orders, payments, referrals, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem, commission_key
from tests import order_jobs

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}


def login(deps: Deps, name: str) -> str:
    return auth.login(f"dev:{name}", deps).user.user_id


def distributor(deps: Deps, name: str) -> tuple[str, str]:
    user_id = login(deps, name)
    code = shops.open_shop(user_id, f"{name} shop", deps).invite_code
    assert code
    return user_id, code


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def paid_order(deps: Deps, buyer: str, product: str, quantity: int = 1) -> str:
    body = {"items": [{"product_id": product, "quantity": quantity}], "address": ADDRESS}
    order = orders.place_order(buyer, [(product, quantity)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    return order.order_id


def test_delivered_orders_are_auto_confirmed_seven_days_after_delivery_once(deps, clock, product):
    from tests.service.test_delivery import deliver

    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product)
    orders.ship(order_id, "SF", "SF123456", deps)
    clock.advance(days=1)
    deliver(deps, order_id)
    assert order_jobs.auto_confirm(clock(), deps) == {"confirmed": 0}
    clock.advance(days=7, minutes=1)
    assert order_jobs.auto_confirm(clock(), deps) == {"confirmed": 1}
    assert order_jobs.auto_confirm(clock(), deps) == {"confirmed": 0}
    assert deps.orders.get(order_id).status.value == "completed"
    assert deps.ledger.wallet(seller)["frozen"] == 1_000
    assert deps.users.get(seller).qualified_invitees == 1  # the buyer's first completed order counts


def test_a_refund_after_settlement_claws_the_commission_back_and_the_balance_goes_negative(deps, product):
    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product)
    orders.ship(order_id, "SF", "SF123456", deps)
    orders.confirm(order_id, Caller(buyer, "user"), deps)
    # settle it (the wallet issue's job moves frozen → available; here by hand)
    LedgerItem(seller, commission_key(order_id, 1)).update(actions=[LedgerItem.status.set("available")])
    LedgerItem(seller, "wallet").update(actions=[LedgerItem.frozen_fen.add(-1_000), LedgerItem.available_fen.add(1_000)])
    LedgerItem(seller, "wallet").update(actions=[LedgerItem.available_fen.add(-600)])  # withdrew part of it
    orders.refund(order_id, Caller(buyer, "user"), "坏了", deps)
    assert deps.ledger.wallet(seller)["available"] == -600
    assert [e["kind"] for e in deps.ledger.entries(seller)] == ["accrual", "clawback", "completion"]


def test_self_purchase_commission_is_off_by_default_and_a_setting(deps, product):
    parent, code = distributor(deps, "parent")
    me, _ = distributor(deps, "me")
    referrals.bind(me, code, deps)
    default = deps.orders.get(paid_order(deps, me, product))
    assert [(s.user_id, s.level) for s in default.commissions] == [(parent, 1)]
    deps.settings = deps.settings.model_copy(update={"rules": Rules(commission=CommissionRules(self_purchase=True))})
    enabled = deps.orders.get(paid_order(deps, me, product))
    assert [(s.user_id, s.level) for s in enabled.commissions] == [(me, 1), (parent, 2)]


def test_an_unbound_buyer_pays_no_commission_and_the_platform_keeps_the_margin(deps, product):
    buyer = login(deps, "loner")
    order = deps.orders.get(paid_order(deps, buyer, product, 3))
    assert order.commissions == [] and order.amount_fen == 15_000


def test_a_refund_wechat_pay_refuses_changes_nothing(deps, product):
    from chalicelib.wechat.pay_results import RefundOutcome

    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    deps.pay.refund = lambda *args, **kwargs: RefundOutcome("ABNORMAL", "r1")  # type: ignore[method-assign]
    with pytest.raises(orders.RefundFailed):
        orders.refund(order_id, Caller(buyer, "user"), "x", deps)
    assert deps.orders.get(order_id).status.value == "paid"


def test_a_payment_that_loses_the_race_to_the_cancellation_job_is_refunded(deps, clock, product):
    buyer = login(deps, "buyer")
    body = {"items": [{"product_id": product, "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [(product, 1)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, clock(), amount_fen=order.amount_fen)
    real_get, read = deps.orders.get, []

    def get_then_cancel(order_id):  # the job cancels right after the notification read "pending"
        found = real_get(order_id)
        if not read:
            read.append(found)
            order_jobs.cancel_unpaid(order.pay_deadline + timedelta(minutes=1), deps)
        return found

    deps.orders.get = get_then_cancel
    assert payments.handle_notification(headers, raw, deps).outcome == "refunded_late"
    deps.orders.get = real_get
    assert deps.orders.get(order.order_id).status.value == "cancelled"
    assert deps.products.get(product).stock == 50
