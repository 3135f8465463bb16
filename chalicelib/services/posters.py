"""A distributor's share poster (``GET /v1/me/poster``): a PNG with the product (or the shop)
and a mini-program code whose scene carries the distributor's invite code (docs/posters.md).

A poster is cached in the media bucket under a digest of what it shows
(``PosterContent.cache_key``): the first request composes it (the product's image from S3, the
code from ``getwxacodeunlimit``, Pillow) and stores it; every later one with the same product
name, price, image, shop name and invite code costs the two DynamoDB reads that say what it
shows and one S3 GET. Two first requests at once both compose and write the same key: the
second PUT replaces the object with an equal one, which nobody can tell apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.errors import NotADistributor
from chalicelib.domain.media import key_of
from chalicelib.domain.posters import PosterContent, encode_scene, fits_scene, lowest_price
from chalicelib.services.catalog import ProductNotFound

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

CODE_WIDTH = 280  # getwxacodeunlimit's smallest; the canvas scales it to its own size
# Content-addressed: the bytes under a key never change, so any cache may keep them for good.
CACHE_CONTROL = "private, max-age=31536000, immutable"


@dataclass(frozen=True)
class Poster:
    png: bytes
    key: str
    cached: bool  # served from the bucket, not composed


def poster(user_id: str, product_id: str | None, deps: Deps) -> Poster:
    """The caller's poster of a listed product, or of their shop when ``product_id`` is None.
    NOT_A_DISTRIBUTOR without a shop; PRODUCT_NOT_FOUND for a product not listed."""
    content = poster_content(user_id, product_id, deps)
    key = content.cache_key()
    if (png := deps.media.read(key)) is not None:
        return Poster(png, key, True)
    png = _compose(content, deps)
    deps.media.write(key, png, "image/png", CACHE_CONTROL)
    return Poster(png, key, False)


def poster_content(user_id: str, product_id: str | None, deps: Deps) -> PosterContent:
    """What the poster shows: two eventually consistent reads (the caller, the product)."""
    if product_id is not None and not fits_scene(product_id):
        raise ProductNotFound("no such product", product_id=product_id[:64])
    user = deps.users.get(user_id, consistent=False)
    if user is None or not user.invite_code or user.shop is None:
        raise NotADistributor("open a shop first: posters carry a distributor's invite code")
    settings = deps.settings
    if product_id is None:
        return PosterContent(settings.poster_shop_page, encode_scene(user.invite_code, None), user.shop.name,
                             user.invite_code, user.shop.name)
    product = deps.products.get(product_id, consistent=False)
    if product is None or not product.listed:
        raise ProductNotFound("no such product", product_id=product_id)
    price, from_price = lowest_price([v.price_fen for v in product.variants()])
    return PosterContent(settings.poster_product_page, encode_scene(user.invite_code, product_id),
                         user.shop.name, user.invite_code, product.name, price, from_price,
                         product.images[0] if product.images else None)


def _compose(content: PosterContent, deps: Deps) -> bytes:
    from chalicelib.services.poster_canvas import compose
    from chalicelib.wechat.wxacode import CodeRequest

    env = deps.settings.poster_code_env
    request = CodeRequest(content.scene, content.page, env_version=env, check_path=env == "release", width=CODE_WIDTH)
    _, code = deps.mini_program_codes.unlimited(request)
    return compose(content, _picture(content.image_url, deps), code, deps.settings.poster_font)


def _picture(url: str | None, deps: Deps) -> bytes | None:
    """The product's first image from our bucket (None: no image, or not one of ours)."""
    key = key_of(url, deps.media.base_url) if url else None
    return deps.media.read(key) if key else None
