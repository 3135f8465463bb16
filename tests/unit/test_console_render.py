"""The console's rendering: every value escaped, money without floats, and the htmx it serves
is the npm lock's."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.web.console.render import STATIC, basis_points, content_security_policy, fen, render

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_htmx_is_the_one_the_npm_lock_pins() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/htmx.org"]["version"]
    assert json.loads((ROOT / "package.json").read_text())["devDependencies"]["htmx.org"] == pinned
    installed = ROOT / "node_modules" / "htmx.org"
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    assert (STATIC / "htmx.min.js").read_bytes() == (installed / "dist" / "htmx.min.js").read_bytes()


def test_a_value_is_text_whatever_it_holds() -> None:
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'
    page = render("error_fragment.html", error=type("E", (), {"code": hostile, "message": hostile,
                                                               "details": {"fields": [{"field": hostile,
                                                                                       "problem": hostile}]}})())
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_money_and_rates_are_written_from_integers() -> None:
    assert [fen(v) for v in (0, 5, 123456, -250, None)] == ["¥0.00", "¥0.05", "¥1,234.56", "-¥2.50", "–"]
    assert [basis_points(v) for v in (1000, 5, None)] == ["10.00%", "0.05%", "–"]


def test_the_policy_allows_no_inline_script_or_style_and_adds_the_media_host() -> None:
    policy = content_security_policy("https://media.example")
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "img-src 'self' data: https://media.example;" in policy
