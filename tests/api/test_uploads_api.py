"""POST /v1/admin/uploads: the HTTP contract of a presigned product-image upload
(docs/uploads.md), every refusal with nothing written, and its OpenAPI declaration."""
from __future__ import annotations

from typing import Any

import pytest
import requests

from chalicelib.store.admin import AdminItem
from tests.images import png

PATH = "/v1/admin/uploads"


@pytest.fixture
def admin(api: Any, deps: Any) -> str:
    deps.media.ensure_bucket()
    return api.login("admin")[0]


def written(deps: Any) -> tuple[int, int]:
    """Audit entries and stored objects: what a refusal must leave unchanged."""
    objects = deps.media.client.list_objects_v2(Bucket=deps.settings.media_bucket).get("KeyCount", 0)
    return len(list(AdminItem.scan())), objects


def test_an_admin_gets_a_presigned_post_and_the_image_url(api: Any, admin: str, deps: Any) -> None:
    image = png()
    status, body = api.call("POST", PATH, {"content_type": "image/png", "size_bytes": len(image),
                                           "purpose": "product_image"}, admin)
    assert status == 201, body
    assert set(body) == {"upload", "image_url", "key", "expires_at"}
    assert set(body["upload"]) == {"url", "fields"}
    fields = body["upload"]["fields"]
    assert fields["key"] == body["key"] and fields["Content-Type"] == "image/png"
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} <= set(fields)
    assert body["image_url"].endswith("/" + body["key"]) and body["key"].startswith("products/2026/")
    assert body["expires_at"].endswith("Z")
    assert written(deps) == (1, 0)  # the audit entry; nothing is stored until the operator uploads
    done = requests.post(body["upload"]["url"], data=fields, files={"file": ("a.png", image)}, timeout=10)
    assert done.status_code == 204
    assert written(deps) == (1, 1)


@pytest.mark.parametrize(("body", "code"), [
    ({"content_type": "image/gif", "size_bytes": 10, "purpose": "product_image"}, "UNSUPPORTED_IMAGE_TYPE"),
    ({"content_type": "image/svg+xml", "size_bytes": 10, "purpose": "product_image"}, "UNSUPPORTED_IMAGE_TYPE"),
    ({"content_type": "image/png", "size_bytes": 5 * 1024 * 1024 + 1, "purpose": "product_image"}, "FILE_TOO_LARGE"),
    ({"content_type": "image/png", "size_bytes": 0, "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": -1, "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": "12", "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": 1.5, "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": True, "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": 10, "purpose": "avatar"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": 10}, "VALIDATION_FAILED"),
    ({"content_type": "", "size_bytes": 10, "purpose": "product_image"}, "VALIDATION_FAILED"),
    ({"content_type": "image/png", "size_bytes": 10, "purpose": "product_image", "key": "products/x"},
     "VALIDATION_FAILED"),
], ids=["gif", "svg", "too-large", "size-0", "size-negative", "size-string", "size-float", "size-bool",
        "other-purpose", "no-purpose", "empty-type", "own-key"])
def test_a_refused_upload_is_422_with_its_code_and_writes_nothing(api: Any, admin: str, deps: Any,
                                                                  body: dict[str, Any], code: str) -> None:
    status, answer = api.call("POST", PATH, body, admin)
    assert (status, answer["error"]["code"]) == (422, code), answer
    assert written(deps) == (0, 0)


def test_the_refusals_name_what_is_allowed(api: Any, admin: str) -> None:
    _, gif = api.call("POST", PATH, {"content_type": "image/gif", "size_bytes": 1, "purpose": "product_image"}, admin)
    assert gif["error"]["allowed"] == ["image/jpeg", "image/png", "image/webp"]
    _, big = api.call("POST", PATH, {"content_type": "image/png", "size_bytes": 10**9, "purpose": "product_image"},
                      admin)
    assert big["error"]["max_bytes"] == 5 * 1024 * 1024


def test_a_user_is_403_and_no_token_401_nothing_written(api: Any, admin: str, deps: Any) -> None:
    user = api.login("alice")[0]
    body = {"content_type": "image/png", "size_bytes": 10, "purpose": "product_image"}
    status, answer = api.call("POST", PATH, body, user)
    assert (status, answer["error"]["code"]) == (403, "FORBIDDEN")
    status, answer = api.call("POST", PATH, body)
    assert (status, answer["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert written(deps) == (0, 0)


def test_malformed_json_is_400(api: Any, admin: str, deps: Any) -> None:
    status, answer = api.call("POST", PATH, raw="{not json", token=admin)
    assert (status, answer["error"]["code"]) == (400, "MALFORMED_JSON")
    assert written(deps) == (0, 0)


def test_the_route_is_declared_in_openapi(api: Any) -> None:
    status, doc = api.call("GET", "/v1/openapi.json")
    assert status == 200
    op = doc["paths"][PATH]["post"]
    assert op["x-error-codes"] == ["UNSUPPORTED_IMAGE_TYPE", "FILE_TOO_LARGE"]
    assert "201" in op["responses"] and "403" in op["responses"]
    body = doc["components"]["schemas"]["UploadBody"]
    assert set(body["required"]) == {"content_type", "size_bytes", "purpose"}
    assert body["properties"]["size_bytes"]["minimum"] == 1
    assert body["properties"]["purpose"]["const"] == "product_image" or body["properties"]["purpose"]["enum"] == [
        "product_image"]
    answer = doc["components"]["schemas"]["UploadAnswer"]
    assert set(answer["required"]) == {"upload", "image_url", "key", "expires_at"}


def test_a_product_takes_an_uploaded_image_and_refuses_others_unchanged(api: Any, admin: str, deps: Any) -> None:
    """The whole path: an upload, the browser's form, the product's images (PATCH), its page."""
    status, product = api.call("POST", "/v1/admin/products", {"name": "面膜", "category": "beauty", "cost_fen": 1_500,
                                                               "price_fen": 5_000, "stock": 3}, admin)
    assert status == 201, product
    path = f"/v1/admin/products/{product['product_id']}"
    image = png()
    _, up = api.call("POST", PATH, {"content_type": "image/png", "size_bytes": len(image), "purpose": "product_image"},
                     admin)
    before_upload = api.call("PATCH", path, {"images": [up["image_url"]]}, admin)
    assert (before_upload[0], before_upload[1]["error"]["code"]) == (422, "IMAGE_NOT_UPLOADED")
    sent = requests.post(up["upload"]["url"], data=up["upload"]["fields"], files={"file": ("a.png", image)}, timeout=10)
    assert sent.status_code == 204
    status, patched = api.call("PATCH", path, {"images": [up["image_url"]]}, admin)
    assert (status, patched["images"]) == (200, [up["image_url"]])
    for images, code in (([up["image_url"].replace(deps.media.base_url, "https://cdn.example.com")], "IMAGE_NOT_OURS"),
                         (["javascript:alert(1)"], "IMAGE_NOT_OURS"), ([up["image_url"]] * 10, "INVALID_IMAGES")):
        status, refused = api.call("PATCH", path, {"images": images}, admin)
        assert (status, refused["error"]["code"]) == (422, code), refused
    user = api.login("bob")[0]
    status, page = api.call("GET", f"/v1/products/{product['product_id']}", token=user)
    assert (status, page["images"]) == (200, [up["image_url"]])
