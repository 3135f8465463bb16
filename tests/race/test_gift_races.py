"""The invitation ladder's gift pack under concurrency, on DynamoDB Local: completions racing
across the gift milestone create one gift order; the distributor giving their address twice at
once creates one (docs/distributor-centre.md "The gift pack")."""
from __future__ import annotations

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.invitations import Milestone
from chalicelib.services import gifts, orders, referrals
from chalicelib.services.sessions import Caller
from chalicelib.store.gifts import gift_order_id
from chalicelib.store.order_items import OrderItem
from tests.conftest import MutableClock
from tests.race.concurrency import login, race
from tests.race.test_tier_races import NOW, pay, placed, product, shop, with_rules
from tests.service.test_orders import ADDRESS

pytestmark = pytest.mark.race


def ladder_with_gift(stock: int = 5) -> tuple[Deps, str]:
    """Deps whose rules send a gift product (``stock`` units) at 2 qualified invitees."""
    deps = Deps(clock=MutableClock(NOW))
    gift = product(deps, 5_000, stock)
    return with_rules(deps, invitation_ladder=[Milestone(invitees=2, reward="gift_pack")],
                      gift_pack={"product_id": gift}), gift


def shipped_invitees(deps: Deps, code: str, item: str, n: int) -> list[tuple[str, str]]:
    shipped = []
    for _ in range(n):
        buyer = login(deps, "b")
        referrals.bind(buyer, code, deps)
        order_id = placed(deps, buyer, item)
        assert pay(deps, order_id) == "paid"
        orders.ship(order_id, "SF", f"SF{order_id[-8:]}", deps)
        shipped.append((buyer, order_id))
    return shipped


def gift_orders_of(user_id: str) -> list[str]:
    return [o.order_id for o in OrderItem.by_buyer.query(user_id) if o.kind == "gift"]


def test_completions_racing_across_the_gift_milestone_create_one_gift_order(deps):
    deps, gift = ladder_with_gift()
    alice, code = shop(deps, "alice")
    item = product(deps, 5_000)
    own = placed(deps, alice, item)  # her address on file
    assert pay(deps, own) == "paid"
    shipped = shipped_invitees(deps, code, item, 5)
    outcomes = race([lambda b=b, o=o: orders.confirm(o, Caller(b, "user"), deps).status.value for b, o in shipped])
    assert outcomes == ["completed"] * 5
    assert gift_orders_of(alice) == [gift_order_id(alice, 2)]
    assert deps.products.get(gift).stock == 4
    [milestone] = deps.users.milestones(alice)
    assert (milestone["fulfilment"], milestone["gift_order_id"]) == ("ordered", gift_order_id(alice, 2))


def test_the_address_given_twice_at_once_creates_one_gift_order(deps):
    deps, gift = ladder_with_gift()
    bob, code = shop(deps, "bob")  # no order of his own: no address on file
    item = product(deps, 5_000)
    for buyer, order_id in shipped_invitees(deps, code, item, 2):
        orders.confirm(order_id, Caller(buyer, "user"), deps)
    assert deps.users.milestones(bob)[0]["fulfilment"] == "address_needed"
    outcomes = race([lambda: gifts.fulfil(bob, 2, dict(ADDRESS), deps) for _ in range(4)])
    assert {(o.fulfilment, o.gift_order_id) for o in outcomes} == {("ordered", gift_order_id(bob, 2))}
    assert gift_orders_of(bob) == [gift_order_id(bob, 2)]
    assert deps.products.get(gift).stock == 4
