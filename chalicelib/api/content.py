"""Content: moderation check, the material library, the review queue, the lexicon (docs/moderation.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.errors import json_response
from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.content_schemas"
if TYPE_CHECKING:
    from chalicelib.api import content_schemas as c
    from chalicelib.domain import clock
    from chalicelib.services import materials, moderation
else:
    c, clock = lazy(MODELS), lazy("chalicelib.domain.clock")
    materials, moderation = lazy("chalicelib.services.materials"), lazy("chalicelib.services.moderation")

bp = Blueprint(__name__)
BLOCKED = ("CONTENT_BLOCKED", "TEXT_TOO_LONG")


@endpoint(bp, "/v1/moderation/check", "POST", tag="content", body="ModerationCheckBody",
          response="ModerationCheckAnswer", models=MODELS, errors=("TEXT_TOO_LONG",),
          summary="Check a text against the lexicon and WeChat (nothing is stored); at most 5,000 characters")
def check(call: Call) -> c.ModerationCheckAnswer:
    from chalicelib.domain.moderation import MAX_CHECK_CHARS, check_length

    check_length(call.body.text, MAX_CHECK_CHARS)
    outcome = moderation.check(call.body.text, call.user_id, call.deps)
    return c.ModerationCheckAnswer(verdict=outcome.verdict.value, hits=outcome.hit_dicts(),
                                   suggested_text=outcome.suggested["text"], wechat=outcome.wechat,
                                   lexicon_version=outcome.lexicon_version)


@endpoint(bp, "/v1/materials", tag="content", query="MaterialsQuery", response="MaterialsAnswer", models=MODELS,
          errors=("NOT_A_DISTRIBUTOR", "INVALID_CURSOR"),
          summary="The material library for distributors: a week's materials (Asia/Shanghai; default this week); "
                  "those above the caller's tier locked, with the tier that unlocks them")
def list_materials(call: Call) -> c.MaterialsAnswer:
    page = materials.week_materials(call.user_id, call.caller.is_admin, call.query.week, call.query.limit,
                                    call.query.next, call.deps)
    items = [c.MaterialOut.of(m, page.locked[m.material_id].value if m.material_id in page.locked else None)
             for m in page.materials]
    return c.MaterialsAnswer(week=page.week, items=items, next=page.next_cursor)


@endpoint(bp, "/v1/admin/materials", "POST", auth="admin", tag="content", status=201, alt_statuses=(202,),
          body="MaterialBody", response="MaterialOut", models=MODELS, errors=BLOCKED,
          summary="Publish a material (201); held for review when moderation says so (202, status pending_review)")
def publish_material(call: Call) -> Response:
    body = call.body
    result = materials.publish(call.user_id, body.title, body.text, body.product_id, tuple(body.media_urls), call.deps,
                               materials.rights_of(body.kind, body.min_tier, body.open_from))
    out = c.MaterialOut.of(result.material)
    return json_response(out.model_dump(mode="json"), 202 if result.review_id else 201)


@endpoint(bp, "/v1/materials/{material_id}/share", tag="content", response="ShareAnswer", models=MODELS,
          errors=("NOT_A_DISTRIBUTOR", "MATERIAL_NOT_FOUND", "TIER_REQUIRED"),
          summary="One-tap share: the material's text and media with the caller's invite link "
                  "(403 TIER_REQUIRED with the tier when the material is locked to the caller)")
def share_material(call: Call) -> c.ShareAnswer:
    return c.ShareAnswer.of(materials.share(call.user_id, call.params["material_id"], call.deps))


@endpoint(bp, "/v1/admin/reviews", auth="admin", tag="content", query="ReviewsQuery", response="ReviewsAnswer",
          models=MODELS, errors=("INVALID_CURSOR",), summary="The review queue: held texts, oldest first")
def list_reviews(call: Call) -> c.ReviewsAnswer:
    items, next_cursor = moderation.pending_reviews(call.query.limit, call.query.next, call.deps)
    return c.ReviewsAnswer(items=[c.ReviewOut.of(r) for r in items], next=next_cursor)


@endpoint(bp, "/v1/admin/reviews/{review_id}/approve", "POST", auth="admin", tag="content", body="DecisionBody",
          response="ReviewOut", models=MODELS, errors=("REVIEW_NOT_FOUND", "ALREADY_DECIDED"),
          summary="Approve a held text: it is published (exactly once)")
def approve_review(call: Call) -> c.ReviewOut:
    return c.ReviewOut.of(moderation.decide(call.params["review_id"], True, call.user_id, call.deps))


@endpoint(bp, "/v1/admin/reviews/{review_id}/reject", "POST", auth="admin", tag="content", body="DecisionBody",
          response="ReviewOut", models=MODELS, errors=("REVIEW_NOT_FOUND", "ALREADY_DECIDED"),
          summary="Reject a held text: it stays unpublished (exactly once)")
def reject_review(call: Call) -> c.ReviewOut:
    return c.ReviewOut.of(moderation.decide(call.params["review_id"], False, call.user_id, call.deps))


@endpoint(bp, "/v1/admin/lexicon", auth="admin", tag="content", query="LexiconQuery", response="LexiconAnswer",
          models=MODELS, errors=("NOT_FOUND",), summary="The lexicon: the current version, or ?version=N")
def get_lexicon(call: Call) -> c.LexiconAnswer:
    view = moderation.get_lexicon(call.query.version, call.deps)
    return c.LexiconAnswer(version=view.version, current_version=view.current_version,
                           entries=[c.EntryOut.of(e) for e in view.entries],
                           updated_at=clock.iso(view.updated_at) if view.updated_at else None, updated_by=view.updated_by)


@endpoint(bp, "/v1/admin/lexicon", "PUT", auth="admin", tag="content", body="LexiconBody", response="LexiconSaved",
          models=MODELS, errors=("LEXICON_CHANGED", "INVALID_LEXICON"),
          summary="Replace the lexicon: a new version, live in every instance within the refresh interval")
def put_lexicon(call: Call) -> c.LexiconSaved:
    rows = [e.model_dump() for e in call.body.entries]
    version, count = moderation.save_lexicon(rows, call.body.base_version, call.user_id, call.deps)
    return c.LexiconSaved(version=version, entries=count)


@endpoint(bp, "/v1/admin/lexicon/edits", "POST", auth="admin", tag="content", status=201, body="LexiconEditBody",
          response="LexiconSaved", models=MODELS, errors=("LEXICON_CHANGED", "INVALID_LEXICON", "NOT_FOUND"),
          summary="Add, replace or remove lexicon entries: a new version")
def edit_lexicon(call: Call) -> c.LexiconSaved:
    body = call.body
    version, count = moderation.edit_lexicon([e.model_dump() for e in body.add], body.remove, body.base_version,
                                             call.user_id, call.deps)
    return c.LexiconSaved(version=version, entries=count)
