"""The runtime rules as a form (the console's settings page): the JSON document of a version in
force, flattened to one field per leaf, a form's values put back on it, and the leaves two
documents differ in (the diff shown before saving).

Pure: no rule is checked here. A value is only turned back into the JSON type of the leaf it
replaces (a number field that is not a number is named as such); whether the rules are valid is
the server's one check (``services.settings.parse_rules`` and the margin guard), whose reasons
the page shows beside their fields.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import ValidationFailed

# The sections, in the order of the page, with their Chinese titles; a section the rules gain
# later shows under its own key until it is named here.
SECTIONS: dict[str, str] = {
    "commission": "佣金比例", "tiers": "分销商等级", "tier_downgrade": "等级降级", "binding": "绑定关系",
    "withdrawals": "提现", "orders": "订单", "invitation_ladder": "邀请阶梯奖励", "experiments": "A/B 实验",
    "recommendations": "推荐", "messages": "订阅消息",
}
# The words of a path, for a label: ``commission.category_rates.food.level1_rate_bp`` reads
# 佣金比例 › 类目 › food › 一级佣金（基点）.
WORDS: dict[str, str] = {
    "category_rates": "类目默认比例（新建商品）", "default_rates": "默认比例", "level1_rate_bp": "一级佣金（基点，100 = 1%）",
    "level2_rate_bp": "二级佣金（基点）", "team_bonus_bp": "团队奖励（基点）", "self_purchase": "自购返佣",
    "tier": "等级", "min_direct": "直推人数下限", "min_team": "团队人数下限", "min_month_sales_fen": "月销售额下限（分）",
    "uplift_bp": "佣金上浮（基点）", "promoters": "推广资格", "promoter_min_spent_fen": "推广资格消费门槛（分）",
    "bindable": "可绑定用户", "duration": "绑定期限", "duration_days": "绑定天数", "minimum_fen": "单笔最低（分）",
    "daily_count": "每日次数上限", "daily_amount_fen": "每日金额上限（分）", "review_above_fen": "超过此金额需审核（分）",
    "payment_minutes": "支付时限（分钟）", "auto_confirm_days": "自动确认收货（天）",
    "settlement_hold_days": "佣金结算冻结期（天）", "invitees": "邀请人数", "reward": "奖励", "cash_fen": "现金（分）",
    "template_id": "模板 ID（空 = 不发送）", "page": "点击跳转页面", "fields": "模板字段",
    "commission_credited": "佣金到账", "order_shipped": "发货通知", "withdrawal_paid": "提现到账",
    "after_sales_decided": "售后结果", "miniprogram_state": "跳转版本", "lang": "语言",
    "variants": "分组权重", "min_detectable_effect_bp": "最小可检测提升（基点）", "baseline_bp": "基线转化率（基点）",
}


@dataclass(frozen=True)
class Field:
    path: str  # dotted, list positions as numbers: ``tiers.0.min_direct``
    label: str
    value: Any
    kind: str  # "int" | "float" | "bool" | "text"

    @property
    def text(self) -> str:
        if self.kind == "bool":
            return "true" if self.value else "false"
        return "" if self.value is None else str(self.value)


@dataclass(frozen=True)
class Change:
    path: str
    label: str
    before: Any
    after: Any


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "text"


def _leaves(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for key in value for leaf in _leaves(value[key], f"{prefix}{key}.")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, f"{prefix}{i}.")]
    return [(prefix.rstrip("."), value)]


def label(path: str) -> str:
    parts = path.split(".")
    return " › ".join([SECTIONS.get(parts[0], parts[0]), *(WORDS.get(p, p) for p in parts[1:])])


def sections(rules: dict[str, Any]) -> list[tuple[str, str, list[Field]]]:
    """(key, title, fields) per top-level section, the named ones first."""
    keys = [k for k in SECTIONS if k in rules] + sorted(k for k in rules if k not in SECTIONS)
    return [(key, SECTIONS.get(key, key),
             [Field(path, label(path), value, _kind(value)) for path, value in _leaves({key: rules[key]}, "")])
            for key in keys]


def apply(rules: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """``rules`` with the leaves ``given`` names (by path) replaced, each turned into its leaf's
    JSON type; paths that are not leaves of ``rules`` are ignored. VALIDATION_FAILED names every
    field whose text is not of its type."""
    after = copy.deepcopy(rules)
    problems = []
    for path, current in _leaves(rules, ""):
        if path not in given:
            continue
        try:
            _put(after, path, _coerce(given[path].strip(), current))
        except ValueError as exc:
            problems.append({"field": path, "problem": str(exc)})
    if problems:
        raise ValidationFailed("some fields are not of their type", fields=problems)
    return after


def _coerce(text: str, current: Any) -> Any:
    kind = _kind(current)
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError("是 或 否")
        return text == "true"
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("须为整数") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError("须为数字") from None
    if current is None and text == "":
        return None
    return text


def _put(doc: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The leaves that differ, added or removed ones included (None on the side without it)."""
    old, new = dict(_leaves(before, "")), dict(_leaves(after, ""))
    paths = list(old) + [p for p in new if p not in old]
    return [Change(p, label(p), old.get(p), new.get(p)) for p in paths if old.get(p) != new.get(p) or
            (p in old) != (p in new)]
