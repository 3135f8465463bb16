"""The console's audit log: every admin action, newest first, with the API's filters (actor,
action, Shanghai days) through the same service as ``GET /v1/admin/audit``. A settings entry
shows the rules it changed, leaf by leaf, rather than two whole documents."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import admin_schemas as a
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.services import audit_log
    from chalicelib.web.console import rules_form
else:
    a, audit_log = lazy("chalicelib.api.admin_schemas"), lazy("chalicelib.services.audit_log")
    rules_form = lazy("chalicelib.web.console.rules_form")

bp = Blueprint(__name__)
FILTERS = ("actor", "action", "from", "to", "next")
ACTIONS: dict[str, str] = {
    "settings.update": "修改运营规则", "settings.rollback": "回滚运营规则", "product.create": "新建商品",
    "product.update": "编辑商品", "product.restock": "补库存", "order.ship": "发货", "user.tier": "设置等级",
    "user.freeze": "冻结分销商", "user.unfreeze": "解冻分销商", "user.promoter": "授予推广资格",
    "review.approve": "审核通过", "review.reject": "审核驳回", "withdrawal.approve": "批准提现",
    "withdrawal.reject": "驳回提现", "lexicon.edit": "编辑敏感词库", "material.create": "发布素材",
    "upload.create": "上传图片", "console.sign_in": "登录后台", "console.sign_out": "退出后台",
}


def _state(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)[:600]


def row(entry: AuditEntry) -> dict[str, Any]:
    settings = entry.action.value.startswith("settings.") and isinstance(entry.before, dict) \
        and isinstance(entry.after, dict)
    return {"at": entry.at, "actor_id": entry.actor_id, "action": entry.action.value,
            "label": ACTIONS.get(entry.action.value, entry.action.value), "target": entry.target,
            "reason": entry.reason, "changes": rules_form.changes(entry.before, entry.after) if settings else None,
            "before": _state(entry.before), "after": _state(entry.after)}


@page(bp, "/console/audit")
def audit_page(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in FILTERS and v}
    q = validate(a.AuditQuery, given)
    items, next_cursor = audit_log.entries(q.actor, q.action, q.from_, q.to, 50, q.next, call.deps)
    return call.render("audit.html", rows=[row(e) for e in items], next=next_cursor, filters=given,
                       actions=ACTIONS)
