"""The board's chart axes in headless Chromium, on series a real shop can produce and the old axis
got wrong: a conversion of 1,450% (labelled "450.00%", its "1," cut off at the left edge), a
GMV of ¥12,345,678 with a refund-heavy negative day, a hundred million visitors, and flat
series (all 0, all 0.01%, all ¥0.01) that were labelled 0.01/0.01/0.00.

For every chart: each y tick label lies wholly inside the chart's SVG (bounding boxes as the
browser lays them out), the labels are pairwise distinct and increase bottom to top, and every
data point lies within the ticked range. A screenshot of each case is kept in test-artifacts/."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from chalicelib.services import dashboard
from chalicelib.web.board import CHARTS
from tests.browser.chromium import phone_visit, unavailable
from tests.browser.sample_rows import sample_rows
from tests.browser.test_dashboard_browser import page_server
from tests.unit.loopback import serve_on_loopback

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

FIELDS = [field for field, *_ in CHARTS]


def extreme(i: int) -> dict[str, int]:
    """Ramps to huge values, a negative day, zeros and flat extremes."""
    return {
        "gmv_fen": -50_000_000 if i == 4 else 0 if i % 7 == 0 else 1_234_567_800 * i // 29,
        "visitors": 98_765_432 if i == 29 else 1_000 * i,
        "conversion_bp": 145_000 if i == 29 else 50 * i,  # 1,450%
        "new_user_conversion_bp": 0,
        "avg_order_value_fen": 1_234_567_800,  # flat ¥12,345,678
        "distributor_retention_bp": 10_000,  # flat 100%
        "repurchase_rate_bp": 1,  # flat 0.01%
        "orders": 0,
        "bounce_rate_bp": 9_999 - i,
        "on_time_delivery_bp": 145_000 - 1_000 * i,
    }


def flat(i: int) -> dict[str, int]:
    """Every series constant: zeros and the smallest non-zero values of each format."""
    return {
        "gmv_fen": 0, "visitors": 0, "conversion_bp": 0, "new_user_conversion_bp": 1,
        "avg_order_value_fen": 1, "distributor_retention_bp": 5_000, "repurchase_rate_bp": 0,
        "orders": 1, "bounce_rate_bp": 10_000, "on_time_delivery_bp": 9_999,
    }


def tiny(i: int) -> dict[str, int]:
    """Values of 0 and 1 unit, alternating."""
    return {field: i % 2 for field in FIELDS}


CASES: dict[str, Callable[[int], dict[str, int]]] = {"extreme": extreme, "flat": flat, "tiny": tiny}


def rows_of(case: Callable[[int], dict[str, int]]) -> Callable[[date, date, Any], list[dict[str, Any]]]:
    def daily_rows(from_day: date, to_day: date, deps: Any) -> list[dict[str, Any]]:
        rows = sample_rows(from_day, to_day)
        return [{**row, **case(i)} for i, row in enumerate(rows)]
    return daily_rows


@pytest.fixture(params=sorted(CASES))
def case_url(request: pytest.FixtureRequest, client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(case name, URL of the board the app answers for that case's rows)."""
    name = request.param
    monkeypatch.setattr(dashboard, "daily_rows", rows_of(CASES[name]))
    login = client.http.post("/v1/auth/login", body=json.dumps({"code": "dev:admin"}),
                             headers={"Content-Type": "application/json"})
    token = json.loads(login.body)["token"]
    response = client.http.get("/v1/admin/dashboard", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with serve_on_loopback(page_server(200, dict(response.headers), response.body)) as base:
        yield name, base + "/v1/admin/dashboard"


# Per chart, as laid out: the SVG's box, each y label's text and box, each grid line's y and each
# data point's centre y (screen pixels).
LAYOUT = """els => els.map(f => {
  const svg = f.querySelector('svg');
  const box = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
  return {
    field: f.dataset.field,
    svg: box(svg.getBoundingClientRect()),
    labels: [...f.querySelectorAll('text.ylabel')].map(t => ({text: t.textContent, box: box(t.getBoundingClientRect())})),
    xlabels: [...f.querySelectorAll('text.xlabel')].map(t => box(t.getBoundingClientRect())),
    grid: [...f.querySelectorAll('line.grid')].map(l => l.getBoundingClientRect().top),
    points: [...f.querySelectorAll('.point')].map(p => { const r = p.getBoundingClientRect();
      return p.tagName === 'rect' ? [r.top, r.bottom] : [(r.top + r.bottom) / 2, (r.top + r.bottom) / 2]; }),
  };
})"""


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["left"] >= outer["left"] and inner["right"] <= outer["right"]
            and inner["top"] >= outer["top"] and inner["bottom"] <= outer["bottom"])


def test_axis_labels_fit_are_distinct_and_cover_the_data(case_url: tuple[str, str]) -> None:
    name, url = case_url
    with phone_visit(url) as visit:
        page = visit.page
        page.wait_for_selector("body[data-rendered]")
        charts = page.eval_on_selector_all("figure.chart", LAYOUT)
        shot = visit.screenshot(f"dashboard-axes-{name}.png")

    assert visit.console_errors == [] and visit.dialogs == []
    assert [c["field"] for c in charts] == FIELDS
    problems: list[str] = []
    for c in charts:
        texts = [label["text"] for label in c["labels"]]
        where = f"{c['field']} {texts}"
        if len(texts) < 2:
            problems.append(f"{where}: fewer than two ticks")
        if len(set(texts)) != len(texts):
            problems.append(f"{where}: tick labels repeat")
        clipped = [label["text"] for label in c["labels"] if not inside(label["box"], c["svg"])]
        if clipped or not all(inside(x, c["svg"]) for x in c["xlabels"]):
            problems.append(f"{where}: labels outside the chart: {clipped}")
        tops = [label["box"]["top"] for label in c["labels"]]
        if tops != sorted(tops, reverse=True):  # the first tick is the lowest on screen
            problems.append(f"{where}: ticks not in order")
        if c["grid"] and c["points"]:
            highest, lowest = min(c["grid"]), max(c["grid"])
            outside = [p for p in c["points"] if p[0] < highest - 1 or p[1] > lowest + 1]
            if outside:
                problems.append(f"{where}: {len(outside)} data points outside the ticked range")
    assert not problems, "\n".join(problems)
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("case_url", ["extreme", "flat"], indirect=True)
def test_the_reported_labels_read_in_full(case_url: tuple[str, str]) -> None:
    """The two labels from the report: 1,450% is under a tick that reads 1,500%, not 450.00%, and a
    flat zero percentage series gets 0% … 1.0%, not 0.01/0.01/0.00."""
    name, url = case_url
    with phone_visit(url) as visit:
        page = visit.page
        page.wait_for_selector("body[data-rendered]")
        labels = page.eval_on_selector_all(
            "figure.chart", "els => Object.fromEntries(els.map(f => [f.dataset.field,"
            " [...f.querySelectorAll('text.ylabel')].map(t => t.textContent)]))")
    if name == "extreme":
        assert labels["conversion_bp"][-1] == "1,500%"
        assert labels["gmv_fen"][-1] == "¥15M"
        assert labels["avg_order_value_fen"][-1] == "¥15M"
        assert labels["visitors"][-1] == "100M"
    else:
        assert labels["conversion_bp"] == ["0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%"]
        assert labels["repurchase_rate_bp"] == labels["conversion_bp"]
        assert labels["new_user_conversion_bp"] == ["0%", "0.01%", "0.02%"]
        assert labels["orders"] == ["0", "1", "2"]
