"""The material library (素材库): admins publish, distributors browse this week's and share.

Every material passes moderation (title and text) before anyone sees it: blocked → 422
CONTENT_BLOCKED; held → stored unpublished with its review item, published when approved.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, AuditEntry, audit
from chalicelib.domain.errors import MaterialNotFound, NotADistributor
from chalicelib.domain.invariants import present
from chalicelib.domain.materials import (
    Material,
    MaterialStatus,
    ReviewKind,
    SharePayload,
    check_media_urls,
    resolve_week,
    share_payload,
)
from chalicelib.domain.moderation import MAX_MATERIAL_CHARS, MAX_TITLE_CHARS, SCENE_SOCIAL, check_length
from chalicelib.services import moderation

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class Published:
    material: Material
    review_id: str | None  # set when the material is held for review


def publish(admin_id: str, title: str, text: str, product_id: str | None, media_urls: tuple[str, ...],
            deps: Deps) -> Published:
    """Publish a material now, or hold it for review (``review_id`` set)."""
    check_length(title, MAX_TITLE_CHARS, "title")
    check_length(text, MAX_MATERIAL_CHARS, "text")
    check_media_urls(media_urls)
    material_id = uuid.uuid4().hex[:16]
    context = moderation.PublishContext(ReviewKind.MATERIAL, material_id, admin_id, scene=SCENE_SOCIAL, title=title)
    outcome = moderation.check_publishable(text, deps, context)
    now = deps.clock()
    if outcome.held:
        review = moderation.new_review(text, context, outcome, deps)
        material = Material(material_id, title, text, admin_id, now, MaterialStatus.PENDING_REVIEW, product_id,
                            media_urls, review_id=review.review_id)
        deps.content.put_material(material, _created(material), review)
        return Published(material, review.review_id)
    material = Material(material_id, title, text, admin_id, now, MaterialStatus.PUBLISHED, product_id, media_urls, now)
    deps.content.put_material(material, _created(material))
    return Published(material, None)


def _created(material: Material) -> AuditEntry:
    """The audit entry of a material's creation (``material.create``): its title, status and
    product (the text is the material's own; the entry names it by id)."""
    return audit(material.author_id, Action.MATERIAL_CREATE, f"material#{material.material_id}", material.created_at,
                 None, {"title": material.title, "status": material.status.value, "product_id": material.product_id,
                        "review_id": material.review_id})


@dataclass(frozen=True)
class WeekPage:
    week: str
    materials: list[Material]
    next_cursor: str | None


def _require_distributor(user_id: str, is_admin: bool, deps: Deps) -> str | None:
    """The caller's invite code; NOT_A_DISTRIBUTOR for a user without a shop (admins pass)."""
    user = deps.users.get(user_id, consistent=False)
    if user is not None and user.invite_code:
        return user.invite_code
    if is_admin:
        return None
    raise NotADistributor("open a shop first: the material library is for distributors")


def week_materials(user_id: str, is_admin: bool, week: str, limit: int, cursor: str | None, deps: Deps) -> WeekPage:
    """The materials published in an Asia/Shanghai ISO week ("new this week" by default), newest first."""
    _require_distributor(user_id, is_admin, deps)
    resolved = resolve_week(week, deps.clock())
    materials, next_cursor = deps.content.materials_of_week(resolved, limit, cursor)
    return WeekPage(resolved, materials, next_cursor)


def share(user_id: str, material_id: str, deps: Deps) -> SharePayload:
    """The one-tap share of a published material with the caller's own invite link."""
    invite_code = present(_require_distributor(user_id, False, deps), "a distributor's invite code")
    material = deps.content.get_material(material_id)
    if material is None or material.status is not MaterialStatus.PUBLISHED:
        raise MaterialNotFound("no published material has this id", material_id=material_id)
    return share_payload(material, invite_code, deps.settings.invite_link_template)
