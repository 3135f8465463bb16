"""The runtime rules on moto: an order keeps the rules it was placed under to its settlement; a
save is in force in another process after the refresh interval; a job run keeps one version."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.clock import business_date, business_month
from chalicelib.domain.errors import VersionConflict
from chalicelib.domain.slices import Progress
from chalicelib.domain.tiers import Tier
from chalicelib.jobs.engine import Deadline, JobDef, LocalQueue, start, work_slice
from chalicelib.services import auth, orders, payments, referrals, settings, shops, versions
from tests import order_jobs
from tests.service.test_settlement import settle

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}
SEED = Rules().model_dump(mode="json")
# v2: a senior earns 15% more instead of 5%, commission is held 10 days instead of 3, and a
# shipped order is confirmed after 2 days instead of 7
CHANGED = {**SEED, "tiers": [{**SEED["tiers"][0], "uplift_bp": 1_500}, {**SEED["tiers"][1], "uplift_bp": 2_000}],
           "orders": {**SEED["orders"], "settlement_hold_days": 10, "auto_confirm_days": 2}}


def login(deps: Deps, name: str) -> str:
    return auth.login(f"dev:{name}", deps).user.user_id


def admin(deps: Deps) -> str:
    return login(deps, "admin")


@pytest.fixture
def senior_seller(deps: Deps) -> tuple[str, str]:
    """A senior distributor and a buyer bound to them."""
    seller = login(deps, "seller")
    code = shops.open_shop(seller, "seller shop", deps).invite_code
    assert code and deps.users.set_tier(seller, Tier.SENIOR, business_month(deps.clock()), expected=Tier.REGULAR)
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    return seller, buyer


def place(deps: Deps, buyer: str) -> str:
    from chalicelib.domain.catalog import Product

    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    body = {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS}
    return orders.place_order(buyer, [("p1", 1)], body, uuid.uuid4().hex, deps).order.order_id


def pay(deps: Deps, order_id: str) -> None:
    order = deps.orders.get(order_id)
    assert order is not None
    headers, raw = deps.pay.build_payment_notification(order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"


def level1(deps: Deps, seller: str, order_id: str) -> Any:
    [commission] = deps.ledger.commissions_of_order(order_id, [(seller, 1)])
    return commission


def test_an_order_placed_before_a_change_pays_ships_completes_and_settles_under_its_old_rules(
        deps: Deps, clock: Any, senior_seller: tuple[str, str]) -> None:
    seller, buyer = senior_seller
    before = place(deps, buyer)
    assert settings.save(CHANGED, 1, admin(deps), deps) == 2
    after = place(deps, buyer)
    assert (deps.orders.get(before).rules_version, deps.orders.get(after).rules_version) == (1, 2)

    pay(deps, before)
    pay(deps, after)
    # the uplift: 20% + 5% of 5,000 under version 1; 20% + 15% under version 2
    assert level1(deps, seller, before).amount_fen == 1_250
    assert level1(deps, seller, after).amount_fen == 1_750

    orders.ship(before, "SF", "SF1", deps)
    orders.ship(after, "SF", "SF2", deps)
    from tests.service.test_delivery import deliver

    deliver(deps, before)
    deliver(deps, after)  # automatic confirmation: auto_confirm_days after the delivery, each its version's
    clock.advance(days=2, minutes=1)  # version 2's auto-confirmation is due; version 1's is not
    assert order_jobs.auto_confirm(clock(), deps) == {"confirmed": 1}
    assert deps.orders.get(before).status.value == "shipped"
    assert deps.orders.get(after).status.value == "completed"
    clock.advance(days=5)
    assert order_jobs.auto_confirm(clock(), deps) == {"confirmed": 1}
    completed = deps.orders.get(before).completed_at
    assert completed is not None

    hold_of = {order_id: level1(deps, seller, order_id).available_at for order_id in (before, after)}
    # version 1's hold, not version 2's 10
    assert business_date(hold_of[before]) == business_date(completed) + timedelta(days=3)
    assert hold_of[after] - hold_of[before] == timedelta(days=10 - 3 - 5)  # completed 5 days earlier, held 10
    settle(hold_of[before], deps)
    statuses = {o: level1(deps, seller, o).status.value for o in (before, after)}
    assert statuses == {before: "available", after: "frozen"}
    assert deps.ledger.wallet(seller)["available"] == 1_250
    assert f"entry#{before}#1#settlement" in {e["sk"] for e in deps.ledger.entries(seller)}


def test_a_save_is_in_force_in_another_process_after_the_refresh_interval(
        deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = Deps(clock=deps.clock)  # another Lambda container: its own cache
    assert elsewhere.rules.orders.settlement_hold_days == 3
    settings.save(CHANGED, 1, admin(deps), deps)
    assert deps.rules_in_force()[0] == 2 and deps.rules.orders.settlement_hold_days == 10  # the saver: at once
    assert elsewhere.rules_in_force()[0] == 1  # cached, for now
    later = versions.time.monotonic() + deps.settings.rules_refresh_seconds + 0.01
    monkeypatch.setattr(versions.time, "monotonic", lambda: later)
    assert elsewhere.rules_in_force()[0] == 2 and elsewhere.rules.orders.settlement_hold_days == 10
    assert elsewhere.rules_at(1).orders.settlement_hold_days == 3  # version 1, now stored, as it was


def test_the_seed_is_stored_as_it_was_at_the_first_save(deps: Deps) -> None:
    seed = deps.settings.rules.model_copy(update={"tier_downgrade": "never"})
    deps.settings = deps.settings.model_copy(update={"rules": seed})
    settings.save(SEED, 1, admin(deps), deps)
    deps.settings = deps.settings.model_copy(update={"rules": Rules()})  # a redeploy with another FENXIAO_RULES
    assert deps.rules_at(1).tier_downgrade == "never"
    assert settings.current(deps).version == 2 and deps.settings_store.version(1) is not None


def test_a_save_from_a_stale_version_changes_nothing(deps: Deps) -> None:
    settings.save(CHANGED, 1, admin(deps), deps)
    with pytest.raises(VersionConflict):
        settings.save(SEED, 1, admin(deps), deps)
    assert settings.current(deps).version == 2 and deps.settings_store.version(3) is None


def test_a_job_run_keeps_the_version_it_was_planned_under(deps: Deps) -> None:
    seen: list[tuple[str, int, int]] = []

    def work(part: str, cursor: str | None, now: datetime, d: Deps, deadline: Deadline) -> Progress:
        seen.append((part, d.rules_in_force()[0], d.rules.orders.settlement_hold_days))
        return Progress({})

    job, queue = JobDef("probe", lambda now, d: ["a", "b"], work), LocalQueue()
    start(job, deps.clock(), deps, queue)
    first = queue.take()
    assert first is not None
    work_slice(job, first, deps, Deadline.after(10), queue)
    settings.save(CHANGED, 1, admin(deps), deps)  # lands between the run's slices
    second = queue.take()
    assert second is not None
    assert second.rules == 1
    work_slice(job, second, deps, Deadline.after(10), queue)
    assert seen == [("a", 1, 3), ("b", 1, 3)]
    assert deps.rules_in_force()[0] == 2  # the next run reads version 2
