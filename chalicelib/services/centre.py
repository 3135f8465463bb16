"""The distributor's centre (API.md v1.1; docs/distributor-centre.md): the orders one earns on and
the invitation ladder's progress. The ledger is services/ledger_view.py, the team view
services/referrals.py, the gift pack services/gifts.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.errors import NotFound
from chalicelib.store import promotion_orders as store

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.promotion_orders import PromotionOrder


def promotion_orders(user_id: str, level: int, limit: int, cursor: str | None,
                     deps: Deps) -> tuple[list[PromotionOrder], str | None]:
    """A page of the orders paying the caller at ``level``, newest first (three round trips:
    store/promotion_orders.py)."""
    return store.promotion_orders(user_id, level, limit, cursor)


@dataclass(frozen=True)
class MilestoneView:
    invitees: int
    reward: str
    cash_fen: int
    reached_at: datetime | None
    fulfilment: str | None  # cash: credited; gift pack: pending, address_needed, ordered
    order_id: str | None = None
    order_status: str | None = None


def invitations(user_id: str, deps: Deps) -> tuple[int, list[MilestoneView]]:
    """The caller's qualified invitees and every milestone of the ladder in force (and any
    reached under an earlier ladder), each with when it was reached and its fulfilment: one
    Query of the caller's partition, and the gift orders' statuses when there are any."""
    user, reached = deps.users.invitation_items(user_id)
    if user is None:
        raise NotFound("no such user; log in again")
    by_count = {m["invitees"]: m for m in reached}
    gift_orders = deps.orders.get_many([m["gift_order_id"] for m in reached if m.get("gift_order_id")])
    views = []
    for m in deps.rules.ladder().milestones:
        views.append(_view(m.invitees, m.reward, m.cash_fen, by_count.pop(m.invitees, None), gift_orders))
    views += [_view(n, r["reward"] or "", r["cash_fen"], r, gift_orders) for n, r in by_count.items()]
    return user.qualified_invitees, sorted(views, key=lambda v: v.invitees)


def _view(invitees: int, reward: str, cash_fen: int, reached: dict | None, gift_orders: dict) -> MilestoneView:
    if reached is None:
        return MilestoneView(invitees, reward, cash_fen, None, None)
    if reward == "cash":
        return MilestoneView(invitees, reward, reached["cash_fen"], reached["reached_at"],
                             "credited" if reached["credited_at"] else None)
    order = gift_orders.get(reached.get("gift_order_id"))
    return MilestoneView(invitees, reward, 0, reached["reached_at"], reached.get("fulfilment") or "pending",
                         reached.get("gift_order_id"), order.status.value if order else None)
