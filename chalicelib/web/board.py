"""Renders the data board as one self-contained HTML page.

Every text from the data goes through ``html.escape``; the rows go in as JSON inside a
``<script type="application/json">`` block with ``<``, ``>``, ``&`` and the JavaScript line
separators written as ``\\uXXXX`` escapes, so no value can close the block or start markup. The
page loads nothing: the Content-Security-Policy allows exactly its own style and script (by
SHA-256), images from ``data:`` (the empty favicon) and nothing else."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.services.dashboard import Board, Kpi, PromotionLine, TopProduct

HERE = Path(__file__).resolve().parent
TITLE = "数据看板 · Data board"

# The trend charts, in order: (row field, title, format of the values, bar or line).
CHARTS: tuple[tuple[str, str, str, str], ...] = (
    ("gmv_fen", "GMV · 成交额 (paid − refunded)", "fen", "bar"),
    ("visitors", "Visitors (UV) · 访客", "count", "line"),
    ("conversion_bp", "Conversion (paying users / visitors) · 转化率", "bp", "line"),
    ("new_user_conversion_bp", "New-user conversion · 新客转化率", "bp", "line"),
    ("avg_order_value_fen", "Average order value · 客单价", "fen", "line"),
    ("distributor_retention_bp", "Distributor retention · 分销商留存", "bp", "line"),
    ("repurchase_rate_bp", "Repurchase rate · 复购率", "bp", "line"),
    ("orders", "Orders · 订单", "count", "bar"),
    ("bounce_rate_bp", "Bounce rate · 跳出率", "bp", "line"),
    ("on_time_delivery_bp", "Delivered within 48 h · 48小时送达", "bp", "line"),
)
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_MARKER = re.compile(r"{{(\w+)}}")


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    return tuple((HERE / name).read_text(encoding="utf-8") for name in ("board.html", "board.css", "board.js"))  # type: ignore[return-value]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy() -> str:
    """Nothing but the page's own inline style and script."""
    _, css, js = _assets()
    return (f"default-src 'none'; script-src {_sha256(js)}; style-src {_sha256(css)}; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element whatever the strings in it hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def fmt(value: int | None, unit: str) -> str:
    """Integer fen as ¥yuan.fen, basis points as a percentage; no float on the way."""
    if value is None:
        return "–"
    sign, a = ("-" if value < 0 else ""), abs(value)
    if unit == "fen":
        return f"{sign}¥{a // 100:,}.{a % 100:02d}"
    if unit == "bp":
        return f"{sign}{a // 100}.{a % 100:02d}%"
    if unit == "days":
        return f"{value} d"
    return f"{value:,}"


def _kpi(k: Kpi) -> str:
    return (f'<li class="kpi"><span class="label">{escape(k.label)}</span>'
            f'<span class="value">{escape(fmt(k.value, k.unit))}</span>'
            f'<span class="note">{escape(k.note)}: {escape(fmt(k.note_value, k.note_unit or k.unit))}</span></li>')


def _products(products: list[TopProduct]) -> str:
    if not products:
        return '<p class="empty">no sales in this period</p>'
    rows = "".join(
        f'<tr><td class="name">{escape(p.name)}</td><td>{p.units:,}</td><td>{p.views:,}</td>'
        f'<td>{escape(fmt(p.sell_through_bp, "bp"))}</td><td>{escape(fmt(p.inventory_turnover_days, "days"))}</td></tr>'
        for p in products)
    return ('<table id="top-products"><thead><tr><th>product</th><th>units</th><th>views</th>'
            f'<th>sell-through</th><th>turnover</th></tr></thead><tbody>{rows}</tbody></table>')


def _promotions(lines: list[PromotionLine] | None) -> str:
    """Each promotion's redemptions, GMV and give-away, and the average order value of its orders
    beside the other orders' (the lever's effect on 客单价)."""
    if not lines:
        return '<p class="empty">no promotion taken in this period</p>'
    rows = "".join(
        f'<tr><td class="name">{escape(p.title or p.promotion_id)}</td><td>{escape(p.kind)}</td>'
        f'<td>{p.redemptions:,}</td><td>{escape(fmt(p.gmv_fen, "fen"))}</td>'
        f'<td>{escape(fmt(p.discount_fen, "fen"))}</td><td>{escape(fmt(p.avg_order_value_fen, "fen"))}</td>'
        f'<td>{escape(fmt(p.avg_order_value_without_fen, "fen"))}</td></tr>' for p in lines)
    return ('<table id="promotions"><thead><tr><th>promotion</th><th>kind</th><th>redemptions</th><th>GMV</th>'
            '<th>given away</th><th>AOV with</th><th>AOV without</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>')


def _repurchase(figures: dict[str, Any] | None) -> str:
    """The repurchase cycle per category beside the seed's, the most lagging first: where a
    member day is worth aiming."""
    if not figures or not figures["categories"]:
        return '<p class="empty">no repurchase cycle computed yet</p>'
    rows = "".join(
        f'<tr><td class="name">{escape(c["category"])}</td><td>{escape(fmt(c["median_days"], "days"))}</td>'
        f'<td>{escape(fmt(c["seed_days"], "days"))}</td><td>{escape(fmt(c["lag_days"], "days"))}</td>'
        f'<td>{c["repurchases"]:,}</td></tr>' for c in figures["categories"])
    return (f'<p class="note">{int(figures["window_days"])} days to {escape(str(figures["as_of"]))}</p>'
            '<table id="repurchase"><thead><tr><th>category</th><th>median</th><th>seed</th><th>lag</th>'
            f'<th>repurchases</th></tr></thead><tbody>{rows}</tbody></table>')


Charts = tuple[tuple[str, str, str, str], ...]


def chart_data(board: Board, charts: Charts = CHARTS) -> dict[str, Any]:
    """What the chart script draws: per day, the charted fields only."""
    fields = [c[0] for c in charts]
    return {
        "charts": [{"field": f, "title": t, "format": u, "kind": k} for f, t, u, k in charts],
        "days": [{"date": row["date"], **{f: row[f] for f in fields if f in row}} for row in board.days],
    }


def _levers(board: Board) -> str:
    """The mall's promotion levers: what each promotion did and the repurchase cycle per category."""
    # Seven and five columns: each scrolls sideways in its own box, so the page keeps a phone's width.
    return (f'<section>\n<h2>Promotions · 促销效果</h2>\n<div class="wide">{_promotions(board.promotions)}</div>\n'
            f'</section>\n<section>\n<h2>Repurchase cycle · 复购周期</h2>\n'
            f'<div class="wide">{_repurchase(board.repurchase)}</div>\n</section>')


def render_board(board: Board, title: str = TITLE, charts: Charts = CHARTS, note: str = "",
                 levers: bool = True) -> str:
    """The page's HTML (the admin's board by default; the partner board names its own title,
    charts and a note after the period, and leaves out the mall's promotion levers)."""
    page, css, js = _assets()
    values = {
        "title": escape(title),
        "period": escape(f"{board.from_day.isoformat()} – {board.to_day.isoformat()}{note}"),
        "generated": escape(board.generated_at),
        "days": str(len(board.days)),
        "kpis": "".join(_kpi(k) for k in board.kpis),
        "products": _products(board.top_products),
        "levers": _levers(board) if levers else "",
        "data": script_json(chart_data(board, charts)),
        "css": css,
        "js": js,
    }
    return _MARKER.sub(lambda m: values[m.group(1)], page)  # one pass: inserted text is never re-scanned
