"""A fault at every DynamoDB call of a payment under freeze, on DynamoDB Local (tests/faults.py):
after each, WeChat's notification again must leave every table as a fault-free run does: the
order paid once, level 2's share accrued once, the frozen level 1's share nowhere (the order
names them as forfeited), level 1's sales counted once."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import distributors, orders, payments, referrals
from chalicelib.store.users import user_id_for
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import ADDRESS, distributor, login

pytestmark = pytest.mark.race

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def frozen_level1_setup(deps: Deps) -> tuple[dict[str, str], bytes]:
    """top ← mid ← buyer, mid frozen; the buyer's order awaiting its notification."""
    _, top_code = distributor(deps, "top")
    mid = login(deps, "mid")
    referrals.bind(mid, top_code, deps)
    from chalicelib.services import shops

    mid_code = shops.open_shop(mid, "mid shop", deps).invite_code
    buyer = login(deps, "buyer")
    referrals.bind(buyer, mid_code or "", deps)
    distributors.freeze(mid, "调查", "u-admin", deps)
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 5, 2_000, 500), deps.clock())
    body = {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [("p1", 1)], body, "frozen-key", deps).order
    return deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                               amount_fen=order.amount_fen)


def deliver(deps: Deps, note: tuple[dict[str, str], bytes]) -> str:
    return payments.handle_notification(note[0], note[1], deps).outcome


def test_a_fault_at_any_call_of_a_payment_under_freeze_then_the_notification_again_pays_the_platform_once(
        deps, faults):
    calls, _ = run_with_faults(Case(frozen_level1_setup, deliver, deliver), deps, faults)
    assert "TransactWriteItems" in calls
    mid, top = user_id_for("dev:mid"), user_id_for("dev:top")
    assert deps.ledger.wallet(mid)["pending"] == 0 and deps.ledger.wallet(top)["pending"] == 250
    assert deps.users.get(mid).sales.fen == 5_000
