"""The data board's figures and its page: hand-checked numbers from tests/browser/sample_rows.py,
gaps for days the job did not compute, and nothing from the data ever becomes markup."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, date, datetime

from chalicelib.services.dashboard import (
    Board,
    TopProduct,
    every_day,
    headline,
    period,
    promotion_lines,
    top_products,
)
from chalicelib.web.board import CHARTS, content_security_policy, fmt, render_board, script_json
from tests.browser.sample_rows import HOSTILE, sample_rows

FROM, TO = date(2026, 10, 12), date(2026, 11, 10)  # 30 days


def board(skip: tuple[int, ...] = ()) -> Board:
    rows = every_day(sample_rows(FROM, TO, skip), FROM, TO)
    return Board(FROM, TO, "2026-11-10 12:00", rows, headline(rows), top_products(rows))


def test_the_period_is_the_last_n_shanghai_days_today_included() -> None:
    # 2026-11-10 17:00 UTC is already 2026-11-11 in Shanghai
    assert period(datetime(2026, 11, 10, 17, 0, tzinfo=UTC), 30) == (date(2026, 10, 13), date(2026, 11, 11))
    assert period(datetime(2026, 11, 10, 15, 59, tzinfo=UTC), 7) == (date(2026, 11, 4), date(2026, 11, 10))


def test_a_day_without_a_row_is_a_gap_not_a_zero() -> None:
    rows = every_day(sample_rows(FROM, TO, skip=(0, 3)), FROM, TO)
    assert len(rows) == 30 and [r["date"] for r in rows[:2]] == ["2026-10-12", "2026-10-13"]
    assert rows[0] == {"date": "2026-10-12"} and rows[3] == {"date": "2026-10-15"}
    assert rows[1]["orders"] == 2


def test_headline_figures_by_hand() -> None:
    kpis = {k.label.split(" · ")[0]: k for k in board(skip=(29,)).kpis}
    # days 0..28: i + 1 orders of 100 yuan each, so GMV = 100 yuan × (1 + … + 29) = 43,500 yuan
    assert (kpis["GMV"].value, kpis["GMV"].note_value) == (4_350_000, 290_000)  # latest computed day is day 28
    # visitors 100 + 10·i: latest (day 28) 380; mean over days 0..28 = 100 + 10·14 = 240
    assert (kpis["Visitors"].value, kpis["Visitors"].note_value) == (380, 240)
    assert (kpis["Conversion"].value, kpis["Conversion"].note_value) == (128, 3)
    # new-user conversion 800 + 20·i: latest 1360, mean 800 + 20·14 = 1080
    assert (kpis["New-user conversion"].value, kpis["New-user conversion"].note_value) == (1360, 1080)
    assert (kpis["Average order value"].value, kpis["Average order value"].note_value) == (10_000, 10_000)
    assert (kpis["Distributor retention"].value, kpis["Distributor retention"].note_value) == (4400, 48)
    assert kpis["Distributor retention"].note_unit == "count"


def test_headline_of_a_period_without_any_row_is_empty_not_zero() -> None:
    rows = every_day([], FROM, TO)
    assert all(k.value is None and k.note_value is None for k in headline(rows))
    assert top_products(rows) == []


def test_top_products_rank_by_units_then_views_with_the_latest_rates() -> None:
    products = top_products(board().days)
    # mask: 2·(1 + … + 30) = 930 units, 30 views a day; tea: 30 units; the third sold nothing but was viewed
    assert products[0] == TopProduct("p-mask", "Hydrating face mask 补水面膜", 930, 900, 6000, 5)
    assert products[1] == TopProduct("p-tea", "Health tea 养生茶", 30, 450, 3500, 40)
    assert products[2].name == HOSTILE and products[2].units == 0 and products[2].inventory_turnover_days is None
    assert top_products([{"date": "2026-11-10", "products": [{"product_id": "p-x", "units_sold": 1}]}])[0].name == "p-x"


def test_money_and_rates_are_formatted_from_integers() -> None:
    assert fmt(4_350_000, "fen") == "¥43,500.00"
    assert fmt(-1_205, "fen") == "-¥12.05"
    assert fmt(1_360, "bp") == "13.60%"
    assert fmt(-3, "bp") == "-0.03%"
    assert fmt(None, "bp") == "–"
    assert fmt(12_345, "count") == "12,345"


def test_embedded_json_cannot_close_its_script_element() -> None:
    text = script_json({"a": HOSTILE, "b": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": HOSTILE, "b": "\u2028"}


def test_the_page_escapes_every_value_and_embeds_the_chart_rows() -> None:
    page = render_board(board(skip=(3,)))
    assert HOSTILE not in page and "<script>alert" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;" in page
    assert page.count("<script") == 2  # the data block and the chart script, nothing else
    data = json.loads(re.search(r'<script type="application/json" id="board-data">(.*?)</script>', page, re.S)[1])
    assert [c["field"] for c in data["charts"]] == [c[0] for c in CHARTS]
    assert len(data["days"]) == 30 and data["days"][3] == {"date": "2026-10-15"}
    assert data["days"][0]["gmv_fen"] == 10_000 and "products" not in data["days"][0]


def test_the_policy_allows_exactly_the_pages_own_style_and_script() -> None:
    page = render_board(board())
    policy = content_security_policy()
    for tag in ("style", "script"):
        inline = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert len(inline) == 1
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none';") and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "connect-src" not in policy


def test_the_sample_rows_have_the_catalogues_fields() -> None:
    from chalicelib.domain.metric_catalog import DAY_METRICS, PRODUCT_METRICS

    row = sample_rows(FROM, FROM)[0]
    assert set(row) == {"date", "products", "promotions", *DAY_METRICS}
    assert all(set(PRODUCT_METRICS) - {"inventory_turnover_days"} <= set(p) for p in row["products"])
    assert {field for field, *_ in CHARTS} <= set(DAY_METRICS)


def test_the_repurchase_cycle_shows_each_category_beside_the_seed_escaped() -> None:
    figures = {"as_of": "2026-11-10", "window_days": 180, "categories": [
        {"category": "food", "median_days": 120, "repurchases": 4, "seed_days": 90, "lag_days": 30},
        {"category": HOSTILE, "median_days": None, "repurchases": 0, "seed_days": None, "lag_days": None}]}
    rows = every_day(sample_rows(FROM, TO, ()), FROM, TO)
    page = render_board(Board(FROM, TO, "2026-11-10 12:00", rows, headline(rows), top_products(rows), figures))
    assert HOSTILE not in page and "<script>alert" not in page
    table = re.search(r'<table id="repurchase">(.*?)</table>', page, re.S)[1]
    assert "<td>120 d</td><td>90 d</td><td>30 d</td><td>4</td>" in table
    assert "180 days to 2026-11-10" in page


def test_without_figures_the_repurchase_section_says_so() -> None:
    assert "no repurchase cycle computed yet" in render_board(board())


def test_promotions_over_the_period_by_hand() -> None:
    # 30 days, one bundle order a day of 100 yuan, 2,000 fen off each; i other orders on day i
    [line] = promotion_lines(sample_rows(FROM, TO, skip=(3,)))  # a gap day counts nothing
    assert (line.promotion_id, line.kind, line.redemptions, line.gmv_fen, line.discount_fen) == (
        "pb", "bundle", 29, 290_000, 58_000)
    assert (line.avg_order_value_fen, line.avg_order_value_without_fen) == (10_000, 10_000)


def test_the_same_promotion_on_two_days_adds_up_and_weights_the_averages_by_orders() -> None:
    rows = [{"date": "2026-11-01", "orders": 4, "promotions": [
                {"promotion_id": "pc", "title": "满100减10", "kind": "coupon", "redemptions": 1, "orders": 1,
                 "gmv_fen": 9_000, "discount_fen": 1_000, "avg_order_value_fen": 9_000,
                 "avg_order_value_without_fen": 6_000}]},
            {"date": "2026-11-02", "orders": 2, "promotions": [
                {"promotion_id": "pc", "title": "满100减10", "kind": "coupon", "redemptions": 0, "orders": 1,
                 "gmv_fen": -3_000, "discount_fen": 1_000, "avg_order_value_fen": 12_000,
                 "avg_order_value_without_fen": 10_000}]}]
    [line] = promotion_lines(rows)
    assert (line.redemptions, line.gmv_fen, line.discount_fen) == (1, 6_000, 2_000)
    # with: (9,000 + 12,000) / 2; without: (3 × 6,000 + 1 × 10,000) / 4
    assert (line.avg_order_value_fen, line.avg_order_value_without_fen) == (10_500, 7_000)


def test_the_promotions_table_escapes_titles_and_says_when_there_is_none() -> None:
    rows = every_day(sample_rows(FROM, TO, ()), FROM, TO)
    page = render_board(Board(FROM, TO, "2026-11-10 12:00", rows, headline(rows), top_products(rows),
                              promotions=promotion_lines(rows)))
    table = re.search(r'<table id="promotions">(.*?)</table>', page, re.S)[1]
    assert HOSTILE not in table and "&lt;/script&gt;" in table and "<td>30</td><td>¥3,000.00</td>" in table
    assert "no promotion taken in this period" in render_board(board())
