"""Experiments (A/B tests) and smart recommendation (docs/experiments.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.experiment_schemas"
if TYPE_CHECKING:
    from chalicelib.api import experiment_schemas as s
    from chalicelib.services import experiments, recommendations
else:
    s = lazy(M)
    experiments, recommendations = lazy("chalicelib.services.experiments"), lazy("chalicelib.services.recommendations")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/experiments/{name}/variant", tag="experiments", models=M, response="VariantAnswer",
          summary="The caller's variant of an experiment: hashed, stable; the first answer is recorded as an exposure",
          errors=("EXPERIMENT_NOT_FOUND",))
def variant(call: Call) -> s.VariantAnswer:
    name = call.params["name"]
    return s.VariantAnswer(experiment=name, variant=experiments.variant_for(name, call.user_id, call.deps))


@endpoint(bp, "/v1/admin/experiments", auth="admin", tag="experiments", models=M, response="ExperimentsAnswer",
          summary="Each experiment's variants: exposures, conversions, rate, p-value against the control, sample still needed")
def experiment_figures(call: Call) -> s.ExperimentsAnswer:
    return s.ExperimentsAnswer(experiments=experiment_rows(call))


def experiment_rows(call: Call) -> list[s.ExperimentFigures]:
    """The ``experiments`` rows, shared with ``GET /v1/admin/metrics``."""
    return [s.ExperimentFigures(experiment=r.experiment, control=r.control,
                                min_detectable_effect_bp=r.min_detectable_effect_bp,
                                variants=[s.VariantFigures(**vars(v)) for v in r.variants])
            for r in experiments.reports(call.deps)]


def _items(chosen: list[recommendations.Shown]) -> list[s.RecommendedProduct]:
    return [s.RecommendedProduct(product_id=p.product_id, name=p.name, category=p.category, price_fen=p.price_fen,
                                 group_price_fen=p.group_price_fen, reason=why.reason, score=why.score)
            for p, why in chosen]


@endpoint(bp, "/v1/products/{product_id}/recommendations", auth="public", tag="recommendations", models=M,
          query="RecommendationQuery", response="ProductRecommendations", errors=("PRODUCT_NOT_FOUND",),
          summary="Products bought together with this one, filled up with its category's popular products")
def product_recommendations(call: Call) -> s.ProductRecommendations:
    product_id = call.params["product_id"]
    page = recommendations.for_product(product_id, call.query.limit, call.deps)
    return s.ProductRecommendations(product_id=product_id, items=_items(page.items), computed_on=page.computed_on)


@endpoint(bp, "/v1/me/recommendations", tag="recommendations", models=M, query="RecommendationQuery",
          response="HomeRecommendations",
          summary="The caller's home list: from their recent purchases, their categories and hot items, "
                  "ordered by their home_layout variant")
def my_recommendations(call: Call) -> s.HomeRecommendations:
    page = recommendations.for_user(call.user_id, call.query.limit, call.deps)
    return s.HomeRecommendations(variant=page.variant, items=_items(page.items), computed_on=page.computed_on)
