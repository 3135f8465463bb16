"""The metric catalogue: one list, the names of API.md, alarms on real metrics."""
from __future__ import annotations

from chalicelib.domain.metric_catalog import ALARMED, BY_NAME, CATALOGUE, DAY_METRICS, PRODUCT_METRICS, Unit

API_MD_DAY_FIELDS = ("gmv_fen", "orders", "paying_users", "avg_order_value_fen", "visitors", "page_views",
                     "bounce_rate_bp", "new_users", "new_user_conversion_bp", "repurchase_rate_bp",
                     "distributor_retention_bp", "active_distributors", "commission_accrued_fen",
                     "commission_settled_fen", "withdrawn_fen", "on_time_delivery_bp")


def test_names_are_unique_and_cover_the_fields_api_md_promises():
    assert len(BY_NAME) == len(CATALOGUE)
    assert set(API_MD_DAY_FIELDS) <= set(DAY_METRICS)
    assert {"gross_margin_bp", "conversion_bp", "conversion_vs_7day_mean_bp"} <= set(DAY_METRICS)
    assert {"inventory_turnover_days", "sell_through_bp"} <= set(PRODUCT_METRICS)


def test_money_and_rates_have_no_cloudwatch_unit_and_every_metric_is_defined():
    for metric in CATALOGUE:
        assert metric.definition
        if metric.name.endswith(("_fen", "_bp", "_days")):
            assert metric.unit is Unit.NONE, metric.name


def test_the_conversion_drop_alarm_is_on_the_difference_to_the_7_day_mean():
    assert [m.name for m in ALARMED] == ["conversion_vs_7day_mean_bp"]
    alarm = BY_NAME["conversion_vs_7day_mean_bp"].alarm
    assert alarm is not None and alarm.comparison == "LessThanThreshold" and alarm.threshold < 0
