"""Draws a share poster with Pillow: the product's image, its name and price, the sharer's shop
and the mini-program code, on a 750-pixel-wide card (the width WeChat's share sheet shows at 1:1
on a phone). Pure: bytes in, PNG bytes out; the service fetches and caches.

Text needs a font with CJK glyphs (names are Chinese). The ``poster_font`` setting names a
TrueType/OpenType file (deployed: a font in a Lambda layer, e.g. ``/opt/fonts/…``); else the
first of ``FONT_CANDIDATES`` present on the machine; else Pillow's built-in font, which draws
Latin text only (docs/posters.md says how to deploy one).
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.domain.posters import PosterContent, price_text

if TYPE_CHECKING:
    from PIL import Image as ImageModule
    from PIL.ImageFont import FreeTypeFont, ImageFont

WIDTH, HEIGHT = 750, 1200
MARGIN = 40
PICTURE = WIDTH  # the product's image: a 750 × 750 square on top
CODE = 240  # the mini-program code's side
INK, MUTED, PRICE, PAPER, PLACEHOLDER = (34, 34, 34), (128, 128, 128), (226, 35, 26), (255, 255, 255), (245, 240, 235)
FONT_CANDIDATES = (
    "/var/task/fonts/poster.ttc",  # shipped in the deployment zip by infra/package.py
    "/opt/fonts/poster.ttc",
    "/opt/fonts/poster.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@lru_cache(maxsize=8)
def font(size: int, configured: str = "") -> FreeTypeFont | ImageFont:
    """The poster's font at ``size`` pixels (loaded once per process and size)."""
    from PIL import ImageFont

    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def wrap(text: str, face: FreeTypeFont | ImageFont, width: int, lines: int) -> list[str]:
    """``text`` cut into at most ``lines`` lines of at most ``width`` pixels, character by
    character (Chinese has no spaces to break at); an ellipsis ends a text that did not fit."""
    out: list[str] = []
    current = ""
    for char in text:
        if face.getlength(current + char) <= width:
            current += char
            continue
        out.append(current)
        current = char
        if len(out) == lines:
            break
    else:
        if current:
            out.append(current)
        return out
    last = out[-1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    return [*out[:-1], last + "…"]


def _cover(picture: bytes | None) -> ImageModule.Image:
    """The product's image cropped to the square at the top (a plain panel when it has none or
    it cannot be read)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if picture:
        try:
            with Image.open(io.BytesIO(picture)) as raw:
                return ImageOps.fit(raw.convert("RGB"), (PICTURE, PICTURE))
        except (UnidentifiedImageError, OSError, ValueError):
            pass
    return Image.new("RGB", (PICTURE, PICTURE), PLACEHOLDER)


def compose(content: PosterContent, picture: bytes | None, code_png: bytes, font_path: str = "") -> bytes:
    """The poster as PNG bytes."""
    from PIL import Image, ImageDraw

    card = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    top = 0
    if content.price_fen is not None:  # a product poster: its picture on top
        card.paste(_cover(picture), (0, 0))
        top = PICTURE
    draw = ImageDraw.Draw(card)
    y = top + 30
    title_face = font(40, font_path)
    for line in wrap(content.title, title_face, WIDTH - 2 * MARGIN, 2 if top else 6):
        draw.text((MARGIN, y), line, font=title_face, fill=INK)
        y += 52
    if content.price_fen is not None:
        draw.text((MARGIN, y + 10), price_text(content.price_fen, content.from_price), font=font(56, font_path), fill=PRICE)
    with Image.open(io.BytesIO(code_png)) as raw_code:
        code = raw_code.convert("RGB").resize((CODE, CODE), Image.Resampling.NEAREST)
    code_at = (WIDTH - MARGIN - CODE, HEIGHT - MARGIN - CODE)
    card.paste(code, code_at)
    small = font(28, font_path)
    left_width = code_at[0] - 2 * MARGIN
    shop_lines = wrap(content.shop_name, font(34, font_path), left_width, 2)
    y = code_at[1] + 30
    for line in shop_lines:
        draw.text((MARGIN, y), line, font=font(34, font_path), fill=INK)
        y += 44
    draw.text((MARGIN, y + 10), "长按识别小程序码", font=small, fill=MUTED)
    draw.text((MARGIN, y + 50), f"邀请码 {content.invite_code}", font=small, fill=MUTED)
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=False)
    return out.getvalue()
