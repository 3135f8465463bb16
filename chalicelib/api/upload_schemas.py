"""Request and answer models of the uploads endpoint (docs/uploads.md). Names are unique across
schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, RequestModel
from chalicelib.domain.clock import iso
from chalicelib.domain.media import allowed_types
from chalicelib.services.uploads import Upload


class UploadBody(RequestModel):
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description=f"the file's media type: one of {', '.join(allowed_types())} (else 422 UNSUPPORTED_IMAGE_TYPE)")
    size_bytes: int = Field(ge=1, description="the file's exact size in bytes, at most the upload limit "
                                              "(UPLOAD_MAX_BYTES, 5 MiB by default; else 422 FILE_TOO_LARGE)")
    purpose: Literal["product_image"] = Field(description="what the file is for (only product_image)")


class PhotoUploadBody(RequestModel):
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description=f"the file's media type: one of {', '.join(allowed_types())} (else 422 UNSUPPORTED_IMAGE_TYPE)")
    size_bytes: int = Field(ge=1, description="the file's exact size in bytes, at most the upload limit "
                                              "(UPLOAD_MAX_BYTES, 5 MiB by default; else 422 FILE_TOO_LARGE)")
    purpose: Literal["after_sales_photo"] = Field(description="what the file is for (only after_sales_photo: a "
                                                              "photo of an after-sales case)")


class PresignedPostOut(AnswerModel):
    url: str = Field(description="POST a multipart/form-data form here")
    fields: dict[str, str] = Field(description="every field of the form, sent as they are before the file "
                                               "(the file goes last, as the field 'file')")


class UploadAnswer(AnswerModel):
    upload: PresignedPostOut
    image_url: str = Field(description="where the image is served once uploaded; give it to a product's images")
    key: str = Field(description="the object's key: products/<yyyy>/<random>.<ext> (after-sales/... for a photo)")
    expires_at: str = Field(description="the form is refused after this instant (ISO-8601 UTC)")

    @classmethod
    def of(cls, upload: Upload) -> UploadAnswer:
        return cls(upload=PresignedPostOut(url=upload.post.url, fields=upload.post.fields),
                   image_url=upload.image_url, key=upload.key, expires_at=iso(upload.expires_at))
