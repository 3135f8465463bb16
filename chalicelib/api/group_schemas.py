"""Models of the group-buy endpoints (API.md "Group-buy")."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from chalicelib.api.order_schemas import AddressIn, PaymentOut, SkuId
from chalicelib.domain.clock import iso
from chalicelib.domain.groups import Group


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class OpenGroupBody(_In):
    product_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    sku_id: SkuId | None = None  # required on a product with SKUs (422 SKU_REQUIRED): every member buys it
    address: AddressIn | None = None  # optional: given at payment or shipping otherwise (docs/groups.md)


class JoinGroupBody(_In):
    address: AddressIn | None = None


class OpenGroupAnswer(_Out):
    group_id: str
    order_id: str
    amount_fen: int
    payment: PaymentOut | None
    pay_deadline: str
    expires_at: str


class JoinGroupAnswer(_Out):
    group_id: str
    order_id: str
    amount_fen: int
    payment: PaymentOut | None
    pay_deadline: str


class MemberOut(_Out):
    user_id: str
    leader: bool
    paid: bool


class GroupOut(_Out):
    group_id: str
    status: str
    size: int
    product_id: str
    group_price_fen: int
    paid_count: int
    seats_left: int
    members: list[MemberOut]
    expires_at: str
    sku_id: str | None = None  # the SKU every member buys (a product with SKUs)
    specs: dict[str, str] | None = None

    @classmethod
    def of(cls, g: Group) -> GroupOut:
        members = [MemberOut(user_id=user, leader=user == g.leader_id, paid=seat.state.value == "paid")
                   for user, seat in g.members()]
        return cls(group_id=g.group_id, status=g.status.value, size=g.size, product_id=g.product_id,
                   group_price_fen=g.line.unit_price_fen if g.line else 0, paid_count=g.paid_count,
                   seats_left=max(g.size - g.held_count, 0), members=members, expires_at=iso(g.expires_at),
                   sku_id=g.line.sku_id if g.line else None, specs=g.line.specs if g.line else None)
