"""Request and answer models of the HTTP contract (API.md). They validate requests, shape
answers and are the schemas of ``/v1/openapi.json``."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import iso
from chalicelib.domain.users import User

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class AnswerModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorDetail(AnswerModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(pattern="^[A-Z][A-Z0-9_]*$")
    message: str


class ErrorAnswer(AnswerModel):
    error: ErrorDetail


# Auth and users ----------------------------------------------------------------------------
class LoginBody(RequestModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class ShopOut(AnswerModel):
    name: str
    opened_at: str


class UserOut(AnswerModel):
    user_id: str
    nickname: str
    role: str
    tier: str
    parent_id: str | None
    invite_code: str | None
    real_name_verified: bool
    shop: ShopOut | None

    @classmethod
    def of(cls, user: User, role: str) -> UserOut:
        shop = ShopOut(name=user.shop.name, opened_at=iso(user.shop.opened_at)) if user.shop else None
        return cls(user_id=user.user_id, nickname=user.nickname, role=role, tier=user.tier.value,
                   parent_id=user.member.parent_id, invite_code=user.invite_code,
                   real_name_verified=user.real_name_verified, shop=shop)


class LoginAnswer(AnswerModel):
    token: str
    user: UserOut
    new_user: bool


class OpenShopBody(RequestModel):
    shop_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]


class OpenShopAnswer(AnswerModel):
    invite_code: str
    shop: ShopOut


# Referral network --------------------------------------------------------------------------
class BindBody(RequestModel):
    invite_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    scene: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = Field(
        default=None, description="instead of invite_code: a poster's scene as the mini-program read it "
                                  "(decodeURIComponent(query.scene)): the invite code, then '.' and a product id")

    @model_validator(mode="after")
    def _one_source(self) -> BindBody:
        if (self.invite_code is None) == (self.scene is None):
            raise ValueError("give invite_code or scene (one of them)")
        return self


class BindAnswer(AnswerModel):
    parent_id: str
    grandparent_id: str | None
    product_id: str | None = Field(default=None, description="the product a poster's scene opens (scene given)")


class PageQuery(QueryModel):
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class NextTierOut(AnswerModel):
    tier: str
    needs: dict[str, int]


class DirectMemberOut(AnswerModel):
    user_id: str
    nickname: str
    bound_at: str | None
    month_sales_fen: int = Field(description="what the member's own referrals sold this month (their sales)")
    direct_count: int
    month_spent_fen: int = Field(default=0, description="what the member bought this Shanghai month "
                                                        "(paid minus refunded)")
    parent_id: str | None = Field(default=None, description="level 2: the direct invitee they are under")


class TeamQuery(PageQuery):
    level: int = Field(default=1, ge=1, le=2, description="1: direct invitees; 2: the members below them")


class TeamAnswer(AnswerModel):
    tier: str
    direct_count: int
    team_count: int
    month_sales_fen: int
    next_tier: NextTierOut | None
    direct: list[DirectMemberOut] = Field(description="the page of members of the level asked (1 by default)")
    next: str | None


# Catalogue ---------------------------------------------------------------------------------
class ProductQuery(PageQuery):
    category: str | None = Field(default=None, min_length=1, max_length=40)


class ProductOut(AnswerModel):
    product_id: str
    name: str
    category: str
    price_fen: int
    group_price_fen: int | None
    stock: int
    commission_preview_fen: int

    @classmethod
    def fields_of(cls, p: Product, uplift_bp: int) -> dict[str, Any]:
        """The list's fields of a product, for the caller's uplift (the product page adds its own)."""
        return {"product_id": p.product_id, "name": p.name, "category": p.category, "price_fen": p.price_fen,
                "group_price_fen": p.group_price_fen, "stock": p.stock or 0,
                "commission_preview_fen": p.commission_preview_fen(uplift_bp)}


class ProductsAnswer(AnswerModel):
    items: list[ProductOut]
    next: str | None


# Admin and simulator -----------------------------------------------------------------------
class Empty(AnswerModel):
    pass


class JobBody(RequestModel):
    now: AwareDatetime | None = Field(default=None, description="ISO-8601 instant with a zone; default: now")
    model_config = ConfigDict(extra="forbid", strict=False)


class JobAnswer(AnswerModel):
    model_config = ConfigDict(extra="allow")
    job: str
    now: str
