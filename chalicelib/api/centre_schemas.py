"""Request and answer models of the distributor's centre (API.md v1.1 "The distributor's centre";
docs/distributor-centre.md). Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.api.schemas import AnswerModel, QueryModel
from chalicelib.domain.clock import iso
from chalicelib.domain.ledger_lines import BUCKETS, PUBLIC_KINDS, LedgerLine

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
