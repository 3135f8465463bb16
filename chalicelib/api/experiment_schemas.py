"""Request and answer models of experiments and recommendations (docs/experiments.md).
Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from pydantic import Field

from chalicelib.api.schemas import AnswerModel, QueryModel


class VariantAnswer(AnswerModel):
    experiment: str
    variant: str


class RecommendationQuery(QueryModel):
    limit: int | None = Field(default=None, ge=1, le=50, description="default: the configured list length (10)")


class RecommendedProduct(AnswerModel):
    product_id: str
    name: str
    category: str
    price_fen: int
    group_price_fen: int | None
    reason: str = Field(description="bought_together | category | hot")
    score: int = Field(description="bought_together: cosine in basis points (summed over a user's recent products); "
                                   "category and hot: popularity (5 per paid order + 1 per view, over 30 days)")


class ProductRecommendations(AnswerModel):
    product_id: str
    items: list[RecommendedProduct]
    computed_on: str | None = Field(description="the Asia/Shanghai day the lists were computed; null before the first run")


class HomeRecommendations(AnswerModel):
    variant: str | None = Field(description="the caller's home_layout variant (B: hot items first); null without the experiment")
    items: list[RecommendedProduct]
    computed_on: str | None


class VariantFigures(AnswerModel):
    variant: str
    exposures: int
    conversions: int
    conversion_rate_bp: int
    p_value: float | None = Field(description="two-proportion z-test against the control, two-sided; null for the control "
                                              "or while undefined")
    sample_size_needed: int = Field(description="more exposures this variant needs (alpha 0.05, power 0.8)")


class ExperimentFigures(AnswerModel):
    experiment: str
    control: str
    min_detectable_effect_bp: int
    variants: list[VariantFigures]


class ExperimentsAnswer(AnswerModel):
    experiments: list[ExperimentFigures]
