"""Share posters (分享海报, docs/posters.md): ``GET /v1/me/poster``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.poster_schemas"
if TYPE_CHECKING:
    from chalicelib.services import posters
else:
    posters = lazy("chalicelib.services.posters")

bp = Blueprint(__name__)
PNG = "image/png"


@endpoint(bp, "/v1/me/poster", tag="distributors", query="PosterQuery", models=MODELS, produces=PNG,
          errors=("NOT_A_DISTRIBUTOR", "PRODUCT_NOT_FOUND", "WXACODE_REFUSED", "TRY_AGAIN"),
          summary="The caller's share poster (PNG): a listed product, or the shop without product_id, with a "
                  "mini-program code whose scene is the invite code (and '.' and the product id). Send "
                  "Accept: image/png (or */*). Cached: the same content is one S3 read; X-Poster-Cache says hit or miss")
def poster(call: Call) -> Response:
    made = posters.poster(call.user_id, call.query.product_id, call.deps)
    return Response(body=made.png, status_code=200, headers={
        "Content-Type": PNG,
        "Cache-Control": "private, max-age=300",
        "ETag": f'"{made.key.rsplit("/", 1)[-1].removesuffix(".png")}"',
        "X-Poster-Cache": "hit" if made.cached else "miss",
        "X-Content-Type-Options": "nosniff",
    })
