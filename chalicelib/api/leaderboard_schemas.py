"""Request and answer models of the monthly leaderboards (docs/leaderboards.md). Names are unique
across schema modules (openapi.py checks)."""
from __future__ import annotations

from pydantic import Field

from chalicelib.api.schemas import AnswerModel, QueryModel

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class BoardQuery(QueryModel):
    month: str | None = Field(default=None, pattern=MONTH_PATTERN,
                              description="YYYY-MM, Shanghai time; the current month by default")


class BoardRow(AnswerModel):
    rank: int = Field(description="competition ranking: equal values share a rank (1, 2, 2, 4)")
    nickname: str = Field(description="masked (张**) except the caller's own")
    value: int = Field(description="sales: fen of paid, unrefunded orders; new_customers: buyers")


class BoardMe(AnswerModel):
    rank: int | None = Field(description="null: not ranked (no value this month)")
    value: int


class BoardOut(AnswerModel):
    month: str
    items: list[BoardRow]
    me: BoardMe


class AdminBoardRow(AnswerModel):
    rank: int
    user_id: str
    nickname: str
    value: int


class AwardOut(AnswerModel):
    rank: int
    user_id: str
    value: int = Field(description="the value ranked on at the month's close")
    reward_fen: int = Field(description="the rank's reward as decided at the close")
    status: str = Field(description="unpaid (the close job has not paid it yet), pending, available, "
                                    "reversed (refunds took all of it) or forfeited (frozen when paid)")
    amount_fen: int = Field(description="what the reward keeps after refunds since the close")


class AdminBoardOut(AnswerModel):
    month: str
    items: list[AdminBoardRow]
    closed: bool = Field(description="the month's standing is decided (its rewards paid or being paid)")
    awards: list[AwardOut]
