"""The console's content: the moderation queue (approve or reject a held text), the lexicon
(add, replace and remove words: a new version each time) and the weekly materials (the week's
list and publishing, held for review when moderation says so), through the services of the
``/v1/admin/reviews``, ``/v1/admin/lexicon`` and ``/v1/admin/materials`` routes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import content_schemas as c
    from chalicelib.services import materials, moderation
    from chalicelib.web.console import fields
else:
    fields = lazy("chalicelib.web.console.fields")
    c, materials = lazy("chalicelib.api.content_schemas"), lazy("chalicelib.services.materials")
    moderation = lazy("chalicelib.services.moderation")

bp = Blueprint(__name__)
KINDS = {"shop_name": "店铺名", "material": "推广素材", "product": "商品文案"}
MATERIAL_KINDS = {"post": "推广素材", "training": "培训课程", "event": "活动"}  # docs/tier-rights.md
TIERS = {"regular": "普通分销商", "senior": "高级分销商", "partner": "合伙人"}
REASONS = {"lexicon": "命中敏感词库", "wechat": "微信内容安全建议人工审核", "wechat_unavailable": "微信内容安全暂不可用"}
VERDICTS = {"block": "拦截", "review": "人工审核", "allow": "放行"}


@page(bp, "/console/moderation")
def review_queue(call: PageCall) -> Response:
    q = validate(c.ReviewsQuery, {k: v for k, v in call.query.items() if k == "next" and v})
    items, next_cursor = moderation.pending_reviews(50, q.next, call.deps)
    return call.render("moderation.html", items=items, next=next_cursor, kinds=KINDS, reasons=REASONS,
                       done=call.query.get("done", ""))


@page(bp, "/console/moderation/{review_id}/{decision}", ("POST",))
def decide(call: PageCall) -> Response:
    decision = call.params["decision"]
    if decision not in ("approve", "reject"):
        from chalicelib.domain.errors import NotFound

        raise NotFound("no such decision")
    moderation.decide(call.params["review_id"], decision == "approve", call.admin_id, call.deps)
    return call.redirect(f"/console/moderation?done={decision}")


@page(bp, "/console/lexicon")
def lexicon(call: PageCall) -> Response:
    view = moderation.get_lexicon(None, call.deps)
    return call.render("lexicon.html", view=view, verdicts=VERDICTS, saved=call.query.get("saved", ""))


@page(bp, "/console/lexicon/edit", ("POST",))
def edit_lexicon(call: PageCall) -> Response:
    word = call.form.get("word").strip()
    add = [{"word": word, "category": call.form.get("category").strip() or "custom",
            "verdict": call.form.get("verdict"), "suggestion": call.form.get("suggestion").strip() or None}] \
        if word else []
    body = validate(c.LexiconEditBody, {"base_version": fields.whole_number(call.form.get("base_version"), "base_version"),
                                        "add": add,
                                        "remove": call.form.all("remove")})
    version, _ = moderation.edit_lexicon([e.model_dump() for e in body.add], body.remove, body.base_version,
                                         call.admin_id, call.deps)
    return call.redirect(f"/console/lexicon?saved={version}")


@page(bp, "/console/materials")
def materials_page(call: PageCall) -> Response:
    q = validate(c.MaterialsQuery, {k: v for k, v in call.query.items() if k in ("week", "next") and v})
    week = materials.week_materials(call.admin_id, True, q.week, 50, q.next, call.deps)
    return call.render("materials.html", week=week, asked=q.week, done=call.query.get("done", ""), kinds=MATERIAL_KINDS,
                       tiers=TIERS)


@page(bp, "/console/materials", ("POST",))
def publish(call: PageCall) -> Response:
    form = {"title": call.form.get("title"), "text": call.form.get("text"),
            "product_id": call.form.get("product_id").strip() or None,
            "kind": call.form.get("kind") or "post", "min_tier": call.form.get("min_tier") or None}
    if open_from := call.form.get("open_from").strip():  # a Shanghai wall-clock time from <input type=datetime-local>
        form["open_from"] = fields.shanghai_time(open_from, "open_from")
    body = validate(c.MaterialBody, form)
    published = materials.publish(call.admin_id, body.title, body.text, body.product_id, tuple(body.media_urls),
                                  call.deps, materials.rights_of(body.kind, body.min_tier, body.open_from))
    return call.redirect("/console/materials?done=" + ("held" if published.review_id else "published"))
