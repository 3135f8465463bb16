"""Request and answer models of subscribe messages (docs/subscribe-messages.md). Names are
unique across schema modules."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from chalicelib.api.schemas import AnswerModel, RequestModel

TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]


class SubscriptionsBody(RequestModel):
    results: dict[TemplateId, Literal["accept", "reject", "ban", "filter"]] = Field(
        min_length=1, max_length=10,
        description="wx.requestSubscribeMessage's success result as it came: template id → accept | reject | "
                    "ban | filter (its errMsg key is ignored). One-time subscriptions: each accept allows one "
                    "message of that template; reject, ban and filter change nothing")

    @field_validator("results", mode="before")
    @classmethod
    def _without_errmsg(cls, value: Any) -> Any:
        if isinstance(value, dict) and "errMsg" in value:
            return {k: v for k, v in value.items() if k != "errMsg"}
        return value


class SubscriptionOut(AnswerModel):
    kind: str = Field(description="commission_credited | order_shipped | withdrawal_paid | after_sales_decided")
    template_id: str = Field(description="the id to pass to wx.requestSubscribeMessage's tmplIds")
    remaining: int = Field(description="consents granted and not yet spent: messages WeChat will take")


class SubscriptionsAnswer(AnswerModel):
    items: list[SubscriptionOut] = Field(description="every configured template (a kind without a template id in "
                                                     "the settings sends nothing and is not listed)")


class SentMessagesAnswer(AnswerModel):
    items: list[dict[str, Any]] = Field(description="subscribeMessage.send bodies the simulator delivered, newest "
                                                    "first (its newest 100), each with its delivery time `at`")
