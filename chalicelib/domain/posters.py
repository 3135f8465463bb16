"""Share posters (分享海报): what a poster shows, the scene its mini-program code carries, and the
key it is cached under (docs/posters.md).

The **scene** is what ``getwxacodeunlimit`` puts in the code and the mini-program reads back in
``onLoad(query)`` as ``decodeURIComponent(query.scene)``: at most 32 characters of WeChat's
scene alphabet (``domain.console.SCENE_CHARS``). A poster's scene is the sharer's invite code,
then, for a product poster, ``.`` and the product id: ``7KQ2MX9A.p3fa9c01b2d4e``. Invite codes
never hold a ``.`` (domain/invite_codes.py), so the first ``.`` splits the two; the shop poster's
scene is the invite code alone. ``decode_scene`` is the one reading of it, on the server (the
binding route accepts the scene as it is) and in the mini-program (the same rule, in its docs).

The **cache key** is a digest of everything drawn (layout version, title, price, image, shop
name, invite code, page, scene): a change to any of them names another object, so a cached
poster is never stale and never needs deleting; an unchanged one costs one read.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from chalicelib.domain.console import SCENE_MAX_CHARS, valid_scene
from chalicelib.domain.errors import Kind, ValidationFailed, error
from chalicelib.domain.invariants import holds
from chalicelib.domain.invite_codes import looks_like_invite_code, normalise_invite_code

SEPARATOR = "."
PREFIX = "posters/"
# Bump when the drawing changes (layout, fonts, sizes): every poster is then drawn anew once.
LAYOUT_VERSION = 1
MAX_PRODUCT_ID_CHARS = SCENE_MAX_CHARS - 8 - len(SEPARATOR)  # an invite code is 8 characters

SceneInvalid = error("SCENE_INVALID", Kind.INVALID,
                     "The scene is not a poster's: an invite code, optionally '.' and a product id.")


@dataclass(frozen=True)
class PosterScene:
    invite_code: str
    product_id: str | None = None  # None: the shop poster


def encode_scene(invite_code: str, product_id: str | None) -> str:
    """The scene of a poster: ``INVITE`` or ``INVITE.PRODUCT`` (≤ 32 scene characters)."""
    holds(looks_like_invite_code(invite_code), "a poster's invite code is a well-formed invite code")
    scene = invite_code if product_id is None else f"{invite_code}{SEPARATOR}{product_id}"
    holds(valid_scene(scene), "a poster's scene fits getwxacodeunlimit (≤ 32 scene characters)")
    return scene


def fits_scene(product_id: str) -> bool:
    """Whether a product id can ride in a scene (every id the catalogue assigns does)."""
    return 0 < len(product_id) <= MAX_PRODUCT_ID_CHARS and valid_scene(product_id)


def decode_scene(scene: str) -> PosterScene:
    """The invite code and product a scene names; SCENE_INVALID when it is no poster's scene.
    The invite code is normalised as the binding route normalises a typed one."""
    head, dot, product_id = scene.strip().partition(SEPARATOR)
    code = normalise_invite_code(head)
    if not looks_like_invite_code(code) or (dot and not fits_scene(product_id)):
        raise SceneInvalid("the scene is not a poster's: an invite code, optionally '.' and a product id",
                           fields=[{"field": "scene", "problem": "not a poster's scene"}])
    return PosterScene(code, product_id if dot else None)


@dataclass(frozen=True)
class PosterContent:
    """Everything a poster shows (and so everything its cache key depends on)."""

    page: str  # the mini-program page the code opens
    scene: str
    shop_name: str
    invite_code: str
    title: str  # the product's name, or the shop's own for the shop poster
    price_fen: int | None = None  # the lowest price a buyer pays (a SKU's when it has SKUs)
    from_price: bool = False  # SKUs at several prices: "起" after the price
    image_url: str | None = None  # the product's first image (ours: products/…)

    def cache_key(self) -> str:
        canonical = json.dumps({"layout": LAYOUT_VERSION, **asdict(self)}, ensure_ascii=False, sort_keys=True)
        return f"{PREFIX}{hashlib.sha256(canonical.encode()).hexdigest()}.png"


def price_text(price_fen: int, from_price: bool) -> str:
    """¥150 or ¥49.90, with 起 when it is the lowest of several SKU prices; integer arithmetic."""
    holds(price_fen >= 0, "a price is never negative")
    yuan, fen = divmod(price_fen, 100)
    text = f"¥{yuan:,}" if fen == 0 else f"¥{yuan:,}.{fen:02d}"
    return f"{text} 起" if from_price else text


def lowest_price(prices: list[int]) -> tuple[int, bool]:
    """The price a poster shows for these buyable prices, and whether they differ ("from")."""
    if not prices:
        raise ValidationFailed("a product has a price")
    return min(prices), len(set(prices)) > 1
