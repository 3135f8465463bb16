"""The console's menu, in order: (path, label). A new area adds its line here (docs/console.md
"Adding a page"); the layout marks the entry whose path begins the current page's."""
from __future__ import annotations

NAV: tuple[tuple[str, str], ...] = (
    ("/console/orders", "订单"),
    ("/console/shipments", "批量发货"),
    ("/console/products", "商品"),
    ("/console/after-sales", "售后"),
    ("/console/distributors", "分销商"),
    ("/console/withdrawals", "提现审核"),
    ("/console/moderation", "内容审核"),
    ("/console/materials", "素材"),
    ("/console/settings", "运营规则"),
    ("/console/audit", "审计日志"),
    ("/console/support", "客服消息"),
    ("/console/promotions", "促销"),  # issue 19 (promo-core)
)
# Outside the console's frame: the phone data board (its own page and session, docs/ops.md).
BOARD = ("/v1/admin/dashboard", "数据看板")
