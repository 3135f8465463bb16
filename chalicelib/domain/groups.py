"""Group-buy (拼团, DOMAIN.md §4): ``size`` people each buy one unit at the group price; the group
completes when all ``size`` have paid before it expires, and fails otherwise.

A seat is held from a member's join until their order is paid (the seat is then paid) or their
order's payment deadline passes (the seat is released and may be taken again). Counting:
``paid_count <= held_count <= size``, where ``held_count`` counts held and paid seats; so a
complete group has no held seat left, and at most ``size`` members ever pay.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import DomainError, Kind, error
from chalicelib.domain.orders import Line, OutOfStock, ProductNotFound, line_of

GroupNotFound = error("GROUP_NOT_FOUND", Kind.NOT_FOUND, "No such group.")
GroupFull = error("GROUP_FULL", Kind.CONFLICT, "Every seat of the group is held or paid.")
GroupClosed = error("GROUP_CLOSED", Kind.CONFLICT, "The group is complete, failed or past its deadline.")
AlreadyMember = error("ALREADY_MEMBER", Kind.CONFLICT, "The caller holds a seat in this group already.")
NotAGroupProduct = error("NOT_A_GROUP_PRODUCT", Kind.INVALID, "The product has no group-buy settings.")
GroupNotComplete = error("GROUP_NOT_COMPLETE", Kind.CONFLICT,
                         "A group order ships (or is refunded on request) only once its group is complete.")


class SeatLost(Exception):
    """A payment arrived for a seat that is no longer the order's (released, or the group closed)."""


class GroupStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    FAILED = "failed"


class SeatState(StrEnum):
    HELD = "held"
    PAID = "paid"
    RELEASED = "released"


TRANSITIONS: dict[GroupStatus, frozenset[GroupStatus]] = {
    GroupStatus.OPEN: frozenset({GroupStatus.COMPLETE, GroupStatus.FAILED}),
    GroupStatus.COMPLETE: frozenset(),
    GroupStatus.FAILED: frozenset(),
}

SEAT_TRANSITIONS: dict[SeatState, frozenset[SeatState]] = {
    SeatState.HELD: frozenset({SeatState.PAID, SeatState.RELEASED}),
    SeatState.PAID: frozenset(),
    SeatState.RELEASED: frozenset({SeatState.HELD}),  # taken again by a new join of the same user
}


class WrongGroupStatus(DomainError):
    code = "GROUP_CLOSED"
    kind = Kind.CONFLICT


def check_transition(current: GroupStatus, target: GroupStatus) -> None:
    """Raise unless ``current → target`` is an allowed transition."""
    if target not in TRANSITIONS[current]:
        raise WrongGroupStatus(f"a group that is {current.value} cannot become {target.value}",
                               status=current.value)


def group_settings(product: Product | None) -> GroupBuy:
    """The product's group-buy settings; refuses unknown, unlisted and non-group products."""
    if product is None or not product.listed:
        raise ProductNotFound("no such product")
    if product.group_buy is None:
        raise NotAGroupProduct("this product has no group-buy price", product_id=product.product_id)
    return product.group_buy


def group_line(product: Product, settings: GroupBuy, sku_id: str | None) -> Line:
    """What each member of a group of this product buys: one unit at the group price of the
    product, or of the SKU named (a product with SKUs: SKU_REQUIRED without one); every member
    buys the same line. Refuses a stock read short (None: unread, the transaction decides)."""
    line = line_of(product, sku_id, 1)
    sku = product.sku(sku_id) if sku_id else None
    stock = sku.stock if sku else product.stock
    if stock is not None and stock < 1:
        raise OutOfStock("not enough stock", product_id=product.product_id, available=stock,
                         **({"sku_id": sku_id} if sku_id else {}))
    return replace(line, unit_price_fen=settings.price_fen(line.unit_price_fen))


@dataclass(frozen=True)
class Seat:
    order_id: str
    state: SeatState


@dataclass(frozen=True)
class Group:
    group_id: str
    product_id: str
    leader_id: str
    size: int
    status: GroupStatus
    created_at: datetime
    expires_at: datetime
    line: Line | None = None  # what each member buys: one unit at the group price, fixed at opening
    seats: dict[str, Seat] = field(default_factory=dict)  # user id → their seat

    @property
    def held_count(self) -> int:
        return sum(1 for s in self.seats.values() if s.state is not SeatState.RELEASED)

    @property
    def paid_count(self) -> int:
        return sum(1 for s in self.seats.values() if s.state is SeatState.PAID)

    def members(self) -> list[tuple[str, Seat]]:
        """Who holds or paid a seat, the leader first."""
        return sorted(((u, s) for u, s in self.seats.items() if s.state is not SeatState.RELEASED),
                      key=lambda us: (us[0] != self.leader_id, us[1].order_id))

    def check_joinable(self, user_id: str, now: datetime) -> None:
        """Refuse a join: closed (not open or past its deadline), already a member, or full."""
        if self.status is not GroupStatus.OPEN or now >= self.expires_at:
            raise GroupClosed(f"the group is {self.status.value if now < self.expires_at else 'past its deadline'}",
                              status=self.status.value)
        seat = self.seats.get(user_id)
        if seat is not None and seat.state is not SeatState.RELEASED:
            raise AlreadyMember("you hold a seat in this group already", order_id=seat.order_id)
        if self.held_count >= self.size:
            raise GroupFull("every seat is held or paid", size=self.size)

    def owns_seat(self, user_id: str, order_id: str) -> bool:
        """True when the order still holds its buyer's (unpaid) seat in an open group."""
        seat = self.seats.get(user_id)
        return self.status is GroupStatus.OPEN and seat == Seat(order_id, SeatState.HELD)

    def completes_with_one_more_payment(self) -> bool:
        return self.paid_count + 1 == self.size

    def is_due(self, now: datetime) -> bool:
        """Open at or past its deadline: it has failed (a complete group is never due)."""
        return self.status is GroupStatus.OPEN and now >= self.expires_at


def expiry(opened_at: datetime, settings: GroupBuy) -> datetime:
    return opened_at + timedelta(hours=settings.ttl_hours)
