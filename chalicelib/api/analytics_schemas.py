"""Request and answer models of the analytics area: behaviour events and the daily metrics
(docs/metrics.md). The metric fields are generated from ``metric_catalog``: a metric added there
appears in the answer and in ``/v1/openapi.json``. Names are unique across schema modules."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, create_model, model_validator

from chalicelib.api.experiment_schemas import ExperimentFigures
from chalicelib.api.schemas import AnswerModel, QueryModel, RequestModel
from chalicelib.domain.activity import MAX_EVENTS
from chalicelib.domain.metric_catalog import CATALOGUE

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Page = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,200}$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class EventIn(RequestModel):
    model_config = ConfigDict(extra="forbid", strict=False)  # ts arrives as an ISO-8601 string

    type: Literal["page_view", "product_view", "share"]
    session_id: Identifier = Field(description="the mini-program's session id (1–64 of A–Z a–z 0–9 _ . : -)")
    page: Page | None = Field(default=None, description="page path; required for page_view")
    product_id: Identifier | None = Field(default=None, description="required for product_view")
    ts: AwareDatetime = Field(description="when it happened, ISO-8601 with a zone; within the last 24 hours")

    @model_validator(mode="after")
    def _needs(self) -> EventIn:
        if self.type == "page_view" and self.page is None:
            raise ValueError("a page_view names its page")
        if self.type == "product_view" and self.product_id is None:
            raise ValueError("a product_view names its product_id")
        return self


class EventsBody(RequestModel):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class EventsAnswer(AnswerModel):
    accepted: int = Field(description="events counted now")
    duplicates: int = Field(description="events counted before (a batch sent again) or repeated in the batch")


class MetricsQuery(QueryModel):
    from_: Day = Field(alias="from", description="first Asia/Shanghai day, YYYY-MM-DD")
    to: Day = Field(description="last Asia/Shanghai day, YYYY-MM-DD; at most 366 days after from")


def _field(metric: Any) -> tuple[Any, Any]:
    if metric.name == "inventory_turnover_days":
        return int | None, Field(description=metric.definition)
    return int, Field(description=metric.definition)


ProductMetricsRow: Any = create_model(  # type: ignore[call-overload]
    "ProductMetricsRow", __base__=AnswerModel, product_id=(str, ...), name=(str, ...),
    **{m.name: _field(m) for m in CATALOGUE if m.per_product})

class PromotionMetricsRow(AnswerModel):
    """One promotion's day (docs/promotions.md "Measuring the levers")."""

    promotion_id: str
    title: str
    kind: str = Field(description="new_user_coupon, coupon, full_gift, bundle or member_day")
    redemptions: int = Field(description="orders paid on the day that took it, less its orders refunded whole on the day")
    orders: int = Field(description="orders paid on the day that took it")
    gmv_fen: int = Field(description="paid − refunded on the day, of the orders that took it")
    discount_fen: int = Field(description="what it gave away on the day's paid orders (discounts, gifts' cost)")
    avg_order_value_fen: int = Field(description="average order value of the day's paid orders that took it")
    avg_order_value_without_fen: int = Field(description="average order value of the day's other paid orders")


MetricsDay: Any = create_model(  # type: ignore[call-overload]
    "MetricsDay", __base__=AnswerModel, date=(str, Field(description="Asia/Shanghai day, YYYY-MM-DD")),
    **{m.name: _field(m) for m in CATALOGUE if not m.per_product},
    products=(list[ProductMetricsRow], Field(description="products viewed or sold on the day, best sellers first")),
    promotions=(list[PromotionMetricsRow], Field(
        default_factory=list, description="promotions taken by the day's paid or refunded orders, most redeemed first")))


class RepurchaseCategory(AnswerModel):
    category: str
    median_days: int | None = Field(description="median days between a buyer's successive paid days in the category, "
                                                "over the window's repurchases; null without any")
    repurchases: int = Field(description="repurchases (a buyer's paid day in the category after an earlier one) in the window")
    seed_days: int | None = Field(description="the seed's cycle (repurchase.seed_cycle_days); null when the rules name none")
    lag_days: int | None = Field(description="median_days − seed_days: positive when buyers come back later than the seed")


class RepurchaseCycles(AnswerModel):
    as_of: str = Field(description="the last Asia/Shanghai day of the window, YYYY-MM-DD")
    window_days: int = Field(description="days of repurchases the medians are taken over (repurchase.window_days)")
    categories: list[RepurchaseCategory] = Field(description="the most lagging first (docs/metrics.md)")


class MetricsAnswer(AnswerModel):
    days: list[MetricsDay] = Field(description="one row per computed day, oldest first")  # type: ignore[valid-type]
    experiments: list[ExperimentFigures] = Field(
        default_factory=list, description="each configured A/B test's variants as of now (docs/experiments.md)")
    repurchase_cycles: RepurchaseCycles | None = Field(
        default=None, description="the repurchase cycle per category as of `to` (docs/metrics.md \"Repurchase cycle\"); "
                                  "null before any was computed")
