"""The material library (素材库): admins publish, distributors browse this week's and share.

Every material passes moderation (title and text) before anyone sees it: blocked → 422
CONTENT_BLOCKED; held → stored unpublished with its review item, published when approved.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, AuditEntry, audit
from chalicelib.domain.clock import business_month
from chalicelib.domain.errors import MaterialNotFound, NotADistributor
from chalicelib.domain.invariants import present
from chalicelib.domain.materials import (
    Material,
    MaterialKind,
    MaterialStatus,
    ReviewKind,
    SharePayload,
    TierRequired,
    check_media_urls,
    resolve_week,
    share_payload,
)
from chalicelib.domain.moderation import MAX_MATERIAL_CHARS, MAX_TITLE_CHARS, SCENE_SOCIAL, check_length
from chalicelib.domain.tier_moves import in_force
from chalicelib.domain.tiers import Tier
from chalicelib.services import moderation

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class Published:
    material: Material
    review_id: str | None  # set when the material is held for review


@dataclass(frozen=True)
class Rights:
    """Who may open a material (docs/tier-rights.md): its kind, the minimum tier, and when early
    access ends (every distributor from then on)."""

    kind: MaterialKind = MaterialKind.POST
    min_tier: Tier | None = None
    open_from: datetime | None = None


def rights_of(kind: str, min_tier: str | None, open_from: datetime | None) -> Rights:
    """The rights of a request's fields (validated names: the schema's literals)."""
    return Rights(MaterialKind(kind), Tier(min_tier) if min_tier else None, open_from)


def publish(admin_id: str, title: str, text: str, product_id: str | None, media_urls: tuple[str, ...],
            deps: Deps, rights: Rights = Rights()) -> Published:
    """Publish a material now, or hold it for review (``review_id`` set)."""
    check_length(title, MAX_TITLE_CHARS, "title")
    check_length(text, MAX_MATERIAL_CHARS, "text")
    check_media_urls(media_urls)
    material_id = uuid.uuid4().hex[:16]
    context = moderation.PublishContext(ReviewKind.MATERIAL, material_id, admin_id, scene=SCENE_SOCIAL, title=title)
    outcome = moderation.check_publishable(text, deps, context)
    now = deps.clock()
    held = outcome.held
    review = moderation.new_review(text, context, outcome, deps) if held else None
    material = Material(material_id, title, text, admin_id, now,
                        MaterialStatus.PENDING_REVIEW if held else MaterialStatus.PUBLISHED, product_id, media_urls,
                        None if held else now, review.review_id if review else None,
                        rights.kind, rights.min_tier, rights.open_from)
    deps.content.put_material(material, _created(material), review)
    return Published(material, material.review_id)


def _created(material: Material) -> AuditEntry:
    """The audit entry of a material's creation (``material.create``): its title, status, product
    and rights (the text is the material's own; the entry names it by id)."""
    return audit(material.author_id, Action.MATERIAL_CREATE, f"material#{material.material_id}", material.created_at,
                 None, {"title": material.title, "status": material.status.value, "product_id": material.product_id,
                        "review_id": material.review_id, "kind": material.kind.value,
                        "min_tier": material.min_tier.value if material.min_tier else None,
                        "open_from": material.open_from.isoformat() if material.open_from else None})


@dataclass(frozen=True)
class WeekPage:
    week: str
    materials: list[Material]
    next_cursor: str | None
    # material id → the tier that unlocks it, for the materials locked to the caller: their text
    # and media are withheld (``materials`` holds them emptied), their title and kind shown
    locked: dict[str, Tier] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    invite_code: str | None  # None: an admin without a shop
    tier: Tier | None  # the tier in force this month; None: an admin (sees everything)


def _require_distributor(user_id: str, is_admin: bool, deps: Deps) -> Reader:
    """The caller's invite code and tier; NOT_A_DISTRIBUTOR for a user without a shop (admins
    pass and see every material unlocked)."""
    user = deps.users.get(user_id, consistent=False)
    if is_admin:
        return Reader(user.invite_code if user else None, None)
    if user is not None and user.invite_code:
        return Reader(user.invite_code, in_force(deps.rules.tier_rules(), user, business_month(deps.clock())))
    raise NotADistributor("open a shop first: the material library is for distributors")


def _unlocking(material: Material, reader: Reader, now: datetime) -> Tier | None:
    """The tier that unlocks ``material`` for the reader; None when open to them (an admin: always)."""
    return None if reader.tier is None else material.unlocking_tier(reader.tier, now)


def week_materials(user_id: str, is_admin: bool, week: str, limit: int, cursor: str | None, deps: Deps) -> WeekPage:
    """The materials published in an Asia/Shanghai ISO week ("new this week" by default), newest
    first; those above the caller's tier locked (title and kind only, with the tier that unlocks them)."""
    reader = _require_distributor(user_id, is_admin, deps)
    now = deps.clock()
    resolved = resolve_week(week, now)
    materials, next_cursor = deps.content.materials_of_week(resolved, limit, cursor)
    locked = {m.material_id: tier for m in materials if (tier := _unlocking(m, reader, now)) is not None}
    shown = [replace(m, text="", media_urls=()) if m.material_id in locked else m for m in materials]
    return WeekPage(resolved, shown, next_cursor, locked)


def share(user_id: str, material_id: str, deps: Deps) -> SharePayload:
    """The one-tap share of a published material with the caller's own invite link;
    TIER_REQUIRED (403, with the tier) for a material locked to the caller."""
    reader = _require_distributor(user_id, False, deps)
    invite_code = present(reader.invite_code, "a distributor's invite code")
    material = deps.content.get_material(material_id)
    if material is None or material.status is not MaterialStatus.PUBLISHED:
        raise MaterialNotFound("no published material has this id", material_id=material_id)
    if (tier := _unlocking(material, reader, deps.clock())) is not None:
        raise TierRequired(f"this material opens from the {tier.value} tier", material_id=material_id,
                           tier=tier.value)
    return share_payload(material, invite_code, deps.settings.invite_link_template)
