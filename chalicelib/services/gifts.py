"""The invitation ladder's gift pack (docs/distributor-centre.md "The gift pack"): the order
created once per gift-pack milestone, to the distributor's address on file or the one they give.

Called after the completion that records the milestone commits (``after_completion``): a failure
there (no gift product yet, no address, stock short, a crash) never fails the completion; the
milestone stays ``pending`` or ``address_needed``, visible in ``GET /v1/me/invitations``, and the
distributor's ``POST /v1/me/invitations/{invitees}/gift`` fulfils it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import DomainError
from chalicelib.domain.gifts import GiftNotConfigured, GiftNotFound, gift_order
from chalicelib.domain.invitations import Qualification
from chalicelib.services.retry import ReadAgain, run_until_committed
from chalicelib.store.gifts import ADDRESS_NEEDED, ORDERED, GiftMilestone, gift_order_id

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


def after_completion(qualified: tuple[str, Qualification] | None, deps: Deps) -> None:
    """The gift of each gift-pack milestone the completion just recorded, to the address on
    file; what cannot be done now is left for the distributor's route (logged)."""
    if qualified is None:
        return
    inviter_id, qualification = qualified
    for milestone in qualification.record:
        if milestone.reward != "gift_pack":
            continue
        try:
            fulfil(inviter_id, milestone.invitees, None, deps)
        except DomainError as exc:
            from chalicelib.observability import logger

            logger().warning("gift pack left for the distributor's route",
                             extra={"user_id": inviter_id, "invitees": milestone.invitees, "code": exc.code})


def fulfil(user_id: str, invitees: int, address: dict[str, Any] | None, deps: Deps) -> GiftMilestone:
    """Create the gift order of the milestone once, shipped to ``address`` (None: the address of
    the distributor's latest order; none on file: the milestone waits as ``address_needed``).
    An ordered milestone is returned as it is. Raises GIFT_NOT_FOUND (no such gift milestone
    reached), GIFT_NOT_CONFIGURED (no gift product in the rules), OUT_OF_STOCK."""

    def step() -> GiftMilestone:
        milestone = deps.gifts.milestone(user_id, invitees)
        if milestone is None or milestone.reward != "gift_pack":
            raise GiftNotFound("no gift-pack milestone of this count reached")
        if milestone.fulfilment == ORDERED:
            return milestone
        version, rules = deps.rules_in_force()
        gift = rules.gift_pack
        if gift.product_id is None:
            raise GiftNotConfigured("no gift product is configured yet")
        to = address or deps.gifts.latest_address(user_id)
        if to is None:
            deps.gifts.address_needed(user_id, invitees)
            return GiftMilestone(user_id, invitees, milestone.reward, ADDRESS_NEEDED, None)
        product = deps.products.get(gift.product_id)
        if product is None:
            raise GiftNotConfigured("the configured gift product does not exist", product_id=gift.product_id)
        order = gift_order(gift_order_id(user_id, invitees), user_id, product, gift.sku_id, gift.quantity, to,
                           deps.clock(), version)
        if not deps.gifts.create_order(order, invitees):
            raise ReadAgain("the gift was ordered by another request", pause=False)
        return GiftMilestone(user_id, invitees, milestone.reward, ORDERED, order.order_id)

    return run_until_committed(step, what="this gift pack")
