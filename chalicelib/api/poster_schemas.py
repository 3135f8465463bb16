"""Request models of the share poster and the partner board (docs/posters.md, docs/tier-rights.md).
Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import QueryModel


class PosterQuery(QueryModel):
    product_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="a listed product; absent: the shop poster")
