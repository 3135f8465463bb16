"""Request and answer models of the content endpoints: moderation, materials, the review queue,
the lexicon (docs/moderation.md). Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, OpenShopAnswer, PageQuery, QueryModel, RequestModel
from chalicelib.api.schemas import OpenShopBody as OpenShopBody  # the shop route names its models here
from chalicelib.domain.clock import iso
from chalicelib.domain.materials import Material, Review, SharePayload
from chalicelib.domain.moderation import Entry

# Lengths are checked by the services (422 TEXT_TOO_LONG with the limit), not here.
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# Moderation ---------------------------------------------------------------------------------
class ModerationCheckBody(RequestModel):
    text: NonEmpty


class HitOut(AnswerModel):
    word: str = Field(description="the lexicon's word")
    start: int = Field(description="start of the span in the original text, in Unicode code points")
    end: int
    category: str
    suggestion: str | None
    verdict: str = Field(description="block or review")
    matched: str = Field(description="the original text of the span, e.g. 躺 * 赚")
    field: str = Field(default="text", description="the field the hit is in (text, title)")


class ModerationCheckAnswer(AnswerModel):
    verdict: Literal["pass", "review", "block"]
    hits: list[HitOut]
    suggested_text: str
    wechat: str = Field(description="msgSecCheck: pass, review, risky, skipped (lexicon blocked) or unavailable")
    lexicon_version: int


class NameReviewOut(AnswerModel):
    review_id: str
    requested_name: str
    status: str


class OpenShopResult(OpenShopAnswer):
    name_review: NameReviewOut | None = Field(
        default=None, description="set when the chosen name waits for review: the shop shows a placeholder until then")


# Materials ----------------------------------------------------------------------------------
MaterialKindIn = Literal["post", "training", "event"]
TierIn = Literal["regular", "senior", "partner"]


class MaterialBody(RequestModel):
    title: NonEmpty
    text: NonEmpty
    product_id: Id | None = None
    media_urls: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)
    kind: MaterialKindIn = Field(default="post", description="post (to share), training (a course), event")
    min_tier: TierIn | None = Field(default=None, description=(
        "tier rights (docs/tier-rights.md): distributors below it see the material locked (title and kind, "
        "with the tier that unlocks it); absent: open to every distributor"))
    open_from: AwareDatetime | None = Field(default=None, strict=False, description=(  # an ISO-8601 string with a zone
        "early access: from this instant every distributor may open it (absent: min_tier holds for good)"))


class MaterialOut(AnswerModel):
    material_id: str
    title: str
    text: str = Field(description="empty while locked")
    product_id: str | None
    media_urls: list[str] = Field(description="empty while locked")
    status: str
    created_at: str
    published_at: str | None
    review_id: str | None
    kind: str = Field(description="post, training or event")
    min_tier: str | None
    open_from: str | None
    locked: bool = Field(default=False, description="above the caller's tier: text and media withheld")
    unlock_tier: str | None = Field(default=None, description="the tier that unlocks it, while locked")

    @classmethod
    def of(cls, m: Material, unlock_tier: str | None = None) -> MaterialOut:
        return cls(material_id=m.material_id, title=m.title, text=m.text, product_id=m.product_id,
                   media_urls=list(m.media_urls), status=m.status.value, created_at=iso(m.created_at),
                   published_at=iso(m.published_at) if m.published_at else None, review_id=m.review_id,
                   kind=m.kind.value, min_tier=m.min_tier.value if m.min_tier else None,
                   open_from=iso(m.open_from) if m.open_from else None, locked=unlock_tier is not None,
                   unlock_tier=unlock_tier)


class MaterialsQuery(PageQuery):
    week: str = Field(default="current", max_length=16, description="current, previous or an ISO week (2026-W46)")


class MaterialsAnswer(AnswerModel):
    week: str
    items: list[MaterialOut]
    next: str | None


class ShareAnswer(AnswerModel):
    material_id: str
    title: str
    text: str
    media_urls: list[str]
    invite_code: str
    invite_link: str

    @classmethod
    def of(cls, p: SharePayload) -> ShareAnswer:
        return cls(material_id=p.material_id, title=p.title, text=p.text, media_urls=list(p.media_urls),
                   invite_code=p.invite_code, invite_link=p.invite_link)


# Review queue -------------------------------------------------------------------------------
class ReviewOut(AnswerModel):
    review_id: str
    kind: str
    ref: str
    text: str
    title: str | None
    author_id: str
    reason: str
    hits: list[dict[str, Any]]
    status: str
    created_at: str
    decided_at: str | None
    decided_by: str | None

    @classmethod
    def of(cls, r: Review) -> ReviewOut:
        return cls(review_id=r.review_id, kind=r.kind.value, ref=r.ref, text=r.text, title=r.title,
                   author_id=r.author_id, reason=r.reason, hits=list(r.hits), status=r.status.value,
                   created_at=iso(r.created_at), decided_at=iso(r.decided_at) if r.decided_at else None,
                   decided_by=r.decided_by)


class ReviewsQuery(PageQuery):
    status: Literal["pending"] = "pending"


class ReviewsAnswer(AnswerModel):
    items: list[ReviewOut]
    next: str | None


class DecisionBody(RequestModel):
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


# Lexicon ------------------------------------------------------------------------------------
class EntryIn(RequestModel):
    word: str
    category: str
    verdict: Literal["block", "review", "allow"]
    suggestion: str | None = None


class EntryOut(AnswerModel):
    word: str
    category: str
    verdict: str
    suggestion: str | None

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        return cls(word=e.word, category=e.category, verdict=e.verdict, suggestion=e.suggestion)


class LexiconQuery(QueryModel):
    version: int | None = Field(default=None, ge=1)


class LexiconAnswer(AnswerModel):
    version: int
    current_version: int
    entries: list[EntryOut]
    updated_at: str | None
    updated_by: str | None


class LexiconBody(RequestModel):
    base_version: int = Field(ge=1, description="the version this replaces; 409 LEXICON_CHANGED if it is not current")
    entries: list[EntryIn]


class LexiconEditBody(RequestModel):
    base_version: int = Field(ge=1)
    add: list[EntryIn] = Field(default_factory=list, description="new entries, or replacements of entries by word")
    remove: list[str] = Field(default_factory=list, description="words to remove")


class LexiconSaved(AnswerModel):
    version: int
    entries: int
