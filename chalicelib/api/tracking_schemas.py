"""Models of carrier tracking's routes (docs/delivery.md)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class PushAnswer(BaseModel):
    """What 快递100 expects back from a push it may stop retrying."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)
    result: bool
    returnCode: str  # 快递100's name
    message: str


class PlayBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    scenario: Literal["in_transit", "delivered", "returned"]


class PushOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    url: str
    form: dict[str, str]  # param and sign, as 快递100 posts them (form-encoded)


class PlayAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    status: str  # what the real callback handler did: applied or unchanged
    callback: PushOut
