"""Request and answer models of the wallet area: real-name verification (docs/wallet.md).
Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, RequestModel

# Lengths are checked by the service (a name is 2–30 characters once trimmed); this bounds the input.
Bounded = Annotated[str, StringConstraints(max_length=64)]


class RealNameBody(RequestModel):
    name: Bounded
    id_number: Bounded = Field(description="18-digit resident ID number (the last character may be X)")


class RealNameAnswer(AnswerModel):
    real_name_verified: bool
    id_number_masked: str = Field(description="e.g. 110***********002X; the number itself is never stored")
