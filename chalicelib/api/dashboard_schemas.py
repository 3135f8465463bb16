"""Request and answer models of the data board (docs/ops.md). Names are unique across schema
modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, QueryModel, RequestModel
from chalicelib.services.dashboard import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS

Days = Annotated[int, Field(ge=MIN_DAYS, le=MAX_DAYS, description=f"Asia/Shanghai days shown, today included "
                                                                  f"({MIN_DAYS}–{MAX_DAYS})")]


class DashboardQuery(QueryModel):
    days: Days = DEFAULT_DAYS


class DashboardTicketQuery(QueryModel):
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="the board ticket of POST /v1/admin/dashboard/links")
    days: Days = DEFAULT_DAYS


class DashboardLinkBody(RequestModel):
    days: Days = DEFAULT_DAYS


class DashboardLinkAnswer(AnswerModel):
    url: str = Field(description="path of the board with a ticket; valid until expires_at, opens the board only")
    expires_at: str
