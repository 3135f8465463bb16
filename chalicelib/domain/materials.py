"""The material library (素材库) and the review queue: records, weeks and the share payload.

Materials are published by admins, listed to distributors by Asia/Shanghai ISO week ("new this
week", DOMAIN.md §7: the library is updated weekly) and shared in one tap with the
distributor's invite link (§4). Texts the moderation holds wait in the review queue; each item
is decided exactly once (pending → approved | rejected).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Kind, ValidationFailed, error
from chalicelib.domain.tiers import Tier

MAX_MEDIA_URLS = 9  # a Moments post carries at most nine pictures
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class MaterialStatus(StrEnum):
    PUBLISHED = "published"
    PENDING_REVIEW = "pending_review"
    REJECTED = "rejected"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class MaterialKind(StrEnum):
    """What a material is (docs/tier-rights.md): a post to share, a training course, an event."""

    POST = "post"
    TRAINING = "training"
    EVENT = "event"


TierRequired = error("TIER_REQUIRED", Kind.FORBIDDEN,
                     "The material is locked below its minimum tier (the error names the tier that unlocks it).")


class ReviewKind(StrEnum):
    SHOP_NAME = "shop_name"
    MATERIAL = "material"
    PRODUCT = "product"


@dataclass(frozen=True)
class Material:
    material_id: str
    title: str
    text: str
    author_id: str
    created_at: datetime
    status: MaterialStatus
    product_id: str | None = None
    media_urls: tuple[str, ...] = ()
    published_at: datetime | None = None
    review_id: str | None = None
    # Tier rights (DOMAIN.md §9): below ``min_tier`` a distributor sees the material locked, until
    # ``open_from`` (early access: the tier sees it first, everyone from then on; None: never).
    kind: MaterialKind = MaterialKind.POST
    min_tier: Tier | None = None
    open_from: datetime | None = None

    def published(self, at: datetime) -> Material:
        return replace(self, status=MaterialStatus.PUBLISHED, published_at=at)

    def unlocking_tier(self, tier: Tier, now: datetime) -> Tier | None:
        """The tier that unlocks the material for a distributor of ``tier`` at
        ``now``; None when the caller may open it."""
        if self.min_tier is None or (self.open_from is not None and now >= self.open_from):
            return None
        if tier.rank >= self.min_tier.rank:
            return None
        return self.min_tier


@dataclass(frozen=True)
class Review:
    review_id: str
    kind: ReviewKind
    ref: str  # what the text belongs to: a user (shop name), a material, a product
    text: str
    author_id: str
    created_at: datetime
    reason: str  # "lexicon" | "wechat" | "wechat_unavailable"
    hits: tuple[dict[str, Any], ...] = ()
    title: str | None = None
    status: ReviewStatus = ReviewStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def week_of(at: datetime) -> str:
    """The Asia/Shanghai ISO week of an instant, as ``2026-W46``."""
    year, week, _ = at.astimezone(SHANGHAI).isocalendar()
    return f"{year}-W{week:02d}"


def resolve_week(value: str, now: datetime) -> str:
    """``current`` (default), ``previous`` or an ISO week ``YYYY-Www``."""
    if value == "current":
        return week_of(now)
    if value == "previous":
        return week_of(now - timedelta(days=7))
    match = WEEK.match(value)
    if not match or not 1 <= int(match.group(2)) <= 53:
        raise ValidationFailed("week is current, previous or an ISO week like 2026-W46",
                               fields=[{"field": "week", "problem": "not a week"}])
    return value


def check_media_urls(urls: tuple[str, ...]) -> None:
    if len(urls) > MAX_MEDIA_URLS or any(not u.startswith("https://") or len(u) > 1024 for u in urls):
        raise ValidationFailed(f"media_urls: at most {MAX_MEDIA_URLS} https URLs of at most 1024 characters",
                               fields=[{"field": "media_urls", "problem": "invalid"}])


@dataclass(frozen=True)
class SharePayload:
    material_id: str
    title: str
    text: str
    media_urls: tuple[str, ...]
    invite_code: str
    invite_link: str


def share_payload(material: Material, invite_code: str, link_template: str) -> SharePayload:
    link = link_template.format(invite_code=invite_code, material_id=material.material_id)
    return SharePayload(material.material_id, material.title, material.text, material.media_urls, invite_code, link)


def placeholder_shop_name(invite_code: str) -> str:
    """The name a shop shows while the name its owner chose waits for review."""
    return f"小店{invite_code}"
