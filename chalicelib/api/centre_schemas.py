"""Request and answer models of the distributor's centre (API.md v1.1 "The distributor's centre";
docs/distributor-centre.md). Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from chalicelib.api.order_schemas import AddressIn
from chalicelib.api.schemas import AnswerModel, QueryModel, RequestModel
from chalicelib.domain.clock import iso
from chalicelib.domain.ledger_lines import BUCKETS, PUBLIC_KINDS, LedgerLine

if TYPE_CHECKING:
    from chalicelib.services.centre import MilestoneView
    from chalicelib.store.promotion_orders import PromotionOrder

LedgerKind = Literal[PUBLIC_KINDS]  # type: ignore[valid-type]


class LedgerQuery(QueryModel):
    kind: LedgerKind | None = Field(default=None, description="only the lines of this kind (then without balances)")
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class BalancesOut(AnswerModel):
    pending_fen: int
    frozen_fen: int
    available_fen: int
    withdrawing_fen: int
    withdrawn_fen: int


class LedgerLineOut(AnswerModel):
    entry_id: str = Field(description="stable id of the line (its ledger key)")
    kind: str = Field(description=f"one of {', '.join(PUBLIC_KINDS)}")
    amount_fen: int = Field(description="the size of the movement (> 0); from/to say where it went")
    at: str
    order_id: str | None = None
    note: str | None = Field(default=None, description="what a line without an order is about: "
                                                       "'team_bonus 2026-11', 'milestone 50', 'leaderboard sales 2026-11'")
    from_bucket: str | None = Field(description="the balance it left (pending, frozen, available, withdrawing); "
                                                "null: it came into the wallet")
    to_bucket: str | None = Field(description="the balance it entered (…, withdrawn); null: it left the wallet "
                                              "(a reversal, a clawback)")
    balances: BalancesOut | None = Field(description="every balance right after this line (null in a list "
                                                     "filtered by kind)")

    @classmethod
    def of(cls, line: LedgerLine) -> LedgerLineOut:
        from chalicelib.domain.ledger_lines import movement

        source, target = movement(line.entry.status)
        order_id = line.entry.order_id
        return cls(entry_id=line.entry.sk.removeprefix("entry#"), kind=line.kind, amount_fen=line.entry.amount_fen,
                   at=iso(line.entry.at), order_id=order_id if order_id and not order_id.startswith("withdrawal#")
                   else None, note=line.note or _withdrawal_note(order_id), from_bucket=source, to_bucket=target,
                   balances=BalancesOut(**{f"{b}_fen": line.balances[b] for b in BUCKETS})
                   if line.balances is not None else None)


def _withdrawal_note(order_id: str | None) -> str | None:
    return f"withdrawal {order_id.removeprefix('withdrawal#')}" if order_id and order_id.startswith("withdrawal#") \
        else None


class LedgerPage(AnswerModel):
    items: list[LedgerLineOut]
    next: str | None


# Promotion orders (推广订单) ----------------------------------------------------------------

class PromotionOrderQuery(QueryModel):
    level: int = Field(default=1, ge=1, le=2, description="1: orders of buyers bound to the caller; 2: of buyers "
                                                         "bound to the caller's direct invitees")
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class PromotionOrderOut(AnswerModel):
    order_id: str
    created_at: str | None
    paid_at: str | None = Field(description="null while unpaid (or cancelled unpaid)")
    status: str
    amount_fen: int
    level: int
    commission_fen: int = Field(description="what the caller keeps of it (after refunds); 0 when none")
    reversed_fen: int = Field(description="what refunds took back of the caller's commission")
    commission_status: str | None = Field(description="pending, frozen, available, reversed, clawed_back; null: "
                                                      "no commission (unpaid, or the caller was frozen)")
    buyer_nickname: str = Field(description="masked: the first character and ** (张** / A**)")

    @classmethod
    def of(cls, o: PromotionOrder) -> PromotionOrderOut:
        c = o.commission
        return cls(order_id=o.order_id, created_at=iso(o.created_at) if o.created_at else None,
                   paid_at=iso(o.paid_at) if o.paid_at else None, status=o.status, amount_fen=o.amount_fen,
                   level=o.level, commission_fen=c.amount_fen if c else 0, reversed_fen=c.reversed_fen if c else 0,
                   commission_status=c.status.value if c else None, buyer_nickname=o.buyer_nickname)


class PromotionOrdersPage(AnswerModel):
    items: list[PromotionOrderOut]
    next: str | None


# The invitation ladder and its gift pack ------------------------------------------------------

class FulfilmentOut(AnswerModel):
    state: str = Field(description="cash: credited; gift pack: pending (order not created yet), address_needed "
                                   "(no address on file: POST .../gift with one), ordered")
    order_id: str | None = None
    order_status: str | None = Field(default=None, description="the gift order's status (paid, shipped, completed)")


class MilestoneOut(AnswerModel):
    invitees: int
    reward: str = Field(description="gift_pack or cash")
    cash_fen: int = 0
    reached_at: str | None = None
    fulfilment: FulfilmentOut | None = None

    @classmethod
    def of(cls, m: MilestoneView) -> MilestoneOut:
        return cls(invitees=m.invitees, reward=m.reward, cash_fen=m.cash_fen,
                   reached_at=iso(m.reached_at) if m.reached_at else None,
                   fulfilment=FulfilmentOut(state=m.fulfilment, order_id=m.order_id, order_status=m.order_status)
                   if m.fulfilment else None)


class InvitationsAnswer(AnswerModel):
    qualified_invitees: int = Field(description="invitees counted: those whose first paid order completed")
    milestones: list[MilestoneOut]


class GiftBody(RequestModel):
    invitees: int = Field(ge=1, le=9999, description="the gift-pack milestone (its invitee count, e.g. 10)")
    address: AddressIn | None = Field(default=None, description="where to ship the gift (either address form of "
                                                                "POST /v1/orders); omitted: the latest order's")


class GiftAnswer(AnswerModel):
    invitees: int
    fulfilment: FulfilmentOut
