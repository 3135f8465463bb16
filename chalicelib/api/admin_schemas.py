"""Models of the operator's distributors and audit log (API.md v1.1 "Operator: settings,
distributors, audit"; docs/audit.md, docs/referrals.md "Manual tier", docs/wallet.md "Frozen
distributors")."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, PageQuery, RequestModel
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import iso
from chalicelib.domain.users import User

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
TierName = Literal["regular", "senior", "partner"]


class DistributorsQuery(PageQuery):
    tier: TierName | None = Field(default=None, description="only distributors holding this tier")
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = Field(
        default=None, description="a user id or an invite code (exact), else a part of the nickname or shop name "
                                  "(a page may then come back short, even empty, with a `next`)")
    frozen: bool | None = Field(default=None, description="true: only frozen distributors; false: only the others")


class WalletOut(AnswerModel):
    pending_fen: int
    frozen_fen: int
    available_fen: int
    withdrawing_fen: int
    withdrawn_fen: int


class DistributorOut(AnswerModel):
    user_id: str
    nickname: str
    shop_name: str | None
    shop_opened_at: str | None
    invite_code: str | None
    tier: TierName
    manual_tier: TierName | None = Field(description="the operator's tier, kept until lifted; null: automatic")
    parent_id: str | None
    direct_count: int
    team_count: int
    month_sales_fen: int = Field(description="referred sales of this Asia/Shanghai month, paid minus refunded")
    wallet: WalletOut
    frozen: bool
    frozen_at: str | None

    @classmethod
    def of(cls, user: User, month_sales_fen: int, wallet: dict[str, int]) -> DistributorOut:
        return cls(user_id=user.user_id, nickname=user.nickname, shop_name=user.shop.name if user.shop else None,
                   shop_opened_at=iso(user.shop.opened_at) if user.shop else None, invite_code=user.invite_code,
                   tier=user.tier.value, manual_tier=user.manual_tier.value if user.manual_tier else None,
                   parent_id=user.member.parent_id, direct_count=user.member.direct_count,
                   team_count=user.member.team_count, month_sales_fen=month_sales_fen,
                   wallet=WalletOut(**{f"{bucket}_fen": fen for bucket, fen in wallet.items()}),
                   frozen=user.frozen, frozen_at=iso(user.frozen_at) if user.frozen_at else None)


class DistributorsPage(AnswerModel):
    items: list[DistributorOut]
    next: str | None


class TierBody(RequestModel):
    tier: TierName | None = Field(description="the manual tier; null lifts it (the rules decide again, at once)")
    reason: Reason


class ReasonBody(RequestModel):
    reason: Reason


class AuditQuery(PageQuery):
    actor: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="the admin's user id")
    action: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="an action, e.g. user.freeze (docs/audit.md lists them)")
    from_: str | None = Field(default=None, alias="from", max_length=10,
                              description="first Asia/Shanghai day, YYYY-MM-DD (default: 6 days before `to`)")
    to: str | None = Field(default=None, max_length=10, description="last Asia/Shanghai day (default: today); "
                                                                    "at most 92 days from `from`")


class AuditEntryOut(AnswerModel):
    entry_id: str
    at: str
    actor_id: str
    action: str
    target: str
    before: Any
    after: Any
    reason: str | None

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(entry_id=e.entry_id, at=iso(e.at), actor_id=e.actor_id, action=e.action.value, target=e.target,
                   before=e.before, after=e.after, reason=e.reason)


class AuditPage(AnswerModel):
    items: list[AuditEntryOut]
    next: str | None
