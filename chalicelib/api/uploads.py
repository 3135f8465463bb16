"""Uploads: presigned S3 uploads of product images (the operator's) and of after-sales photos (a
buyer's) (docs/uploads.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.upload_schemas"
if TYPE_CHECKING:
    from chalicelib.api import upload_schemas as u
    from chalicelib.services import uploads
else:
    u, uploads = lazy(MODELS), lazy("chalicelib.services.uploads")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/uploads", "POST", auth="admin", tag="catalog", status=201, body="UploadBody",
          response="UploadAnswer", models=MODELS, errors=("UNSUPPORTED_IMAGE_TYPE", "FILE_TOO_LARGE"),
          summary="A presigned S3 POST for one product image (JPEG, PNG or WebP, 1 byte up to the declared "
                  "size, within the upload limit), valid for minutes; its image_url goes into a product's images")
def create_upload(call: Call) -> u.UploadAnswer:
    body = call.body
    return u.UploadAnswer.of(uploads.create_upload(call.user_id, body.content_type, body.size_bytes, call.deps))


@endpoint(bp, "/v1/uploads", "POST", auth="user", tag="after-sales", status=201, body="PhotoUploadBody",
          response="UploadAnswer", models=MODELS, errors=("UNSUPPORTED_IMAGE_TYPE", "FILE_TOO_LARGE"),
          summary="A presigned S3 POST for one photo of an after-sales case (JPEG, PNG or WebP, within the upload "
                  "limit), valid for minutes; its image_url goes into the case's photos")
def create_photo_upload(call: Call) -> u.UploadAnswer:
    body = call.body
    return u.UploadAnswer.of(uploads.create_upload(call.user_id, body.content_type, body.size_bytes, call.deps,
                                                   body.purpose))
