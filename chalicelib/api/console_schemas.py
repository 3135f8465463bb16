"""The console sign-in's JSON route (the mini-program confirms a scene it scanned)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ConsoleLoginConfirmed(BaseModel):
    status: Literal["confirmed"] = "confirmed"
