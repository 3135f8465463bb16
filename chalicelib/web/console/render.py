"""Rendering the console's pages: one Jinja2 environment, autoescaping every value, and the
static assets (ours and the vendored htmx) with the headers every console answer carries.

The Content-Security-Policy allows scripts and styles from our own origin only (files, never
inline: no nonce or hash is needed, and an injected ``<script>`` or ``style=""`` does nothing),
images from our origin, ``data:`` (the sign-in code) and the media host (product images), forms
posting to our origin only, and no framing.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
# The vendored htmx: copied from the npm lock's package by `make` (node_modules/htmx.org/dist),
# never fetched from a CDN; docs/console.md.
HTMX = "vendor/htmx.min.js"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".svg": "image/svg+xml", ".png": "image/png"}


@lru_cache(maxsize=1)
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fen=fen, bp=basis_points, shanghai=shanghai)
    env.globals.update(static=static_url)
    return env


def render(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))


def render_block(template: str, block: str, **context: Any) -> str:
    """One block of a template (an htmx answer that replaces part of a page)."""
    env = environment()
    tmpl = env.get_template(template)
    return "".join(tmpl.blocks[block](tmpl.new_context(context)))


@lru_cache(maxsize=64)
def static_file(name: str) -> tuple[bytes, str] | None:
    """A static asset's bytes and media type; None for a name that is not one of ours."""
    path = (STATIC / name).resolve()
    if STATIC not in path.parents or not path.is_file() or path.suffix not in MEDIA_TYPES:
        return None
    return path.read_bytes(), MEDIA_TYPES[path.suffix]


def static_url(name: str) -> str:
    """The URL of an asset, with its content's digest so a deploy never serves a stale copy."""
    found = static_file(name)
    version = hashlib.sha256(found[0]).hexdigest()[:12] if found else "missing"
    return f"/console/static/{name}?v={version}"


def content_security_policy(media_origin: str = "", upload_origin: str = "") -> str:
    """``media_origin`` shows the product images; ``upload_origin`` (S3) takes the browser's
    presigned image uploads (``console.js``)."""
    images = " ".join(dict.fromkeys(filter(None, ("'self'", "data:", media_origin))))
    connect = " ".join(dict.fromkeys(filter(None, ("'self'", upload_origin))))
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src {connect}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def fen(value: int | None) -> str:
    """Integer fen as ¥yuan.fen (no float on the way)."""
    if value is None:
        return "–"
    sign, a = ("-" if value < 0 else ""), abs(value)
    return f"{sign}¥{a // 100:,}.{a % 100:02d}"


def basis_points(value: int | None) -> str:
    if value is None:
        return "–"
    return f"{value // 100}.{value % 100:02d}%"


def shanghai(value: datetime | str | None) -> str:
    """A time as the operator reads it: Asia/Shanghai, to the minute."""
    from chalicelib.domain.clock import SHANGHAI, parse_iso

    if value is None or value == "":
        return "–"
    at = parse_iso(value) if isinstance(value, str) else value
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
