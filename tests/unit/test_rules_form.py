"""The rules as a form (web/console/rules_form.py): one field per leaf, values put back in their
JSON types, and the leaves two documents differ in."""
from __future__ import annotations

import pytest

from chalicelib.config import Rules
from chalicelib.domain.errors import DomainError
from chalicelib.web.console import rules_form

RULES = Rules().model_dump(mode="json")


def paths() -> dict[str, rules_form.Field]:
    return {f.path: f for _, _, fields in rules_form.sections(RULES) for f in fields}


def test_every_leaf_is_a_field_of_its_type_and_the_named_sections_come_first() -> None:
    fields = paths()
    food = fields["commission.category_rates.food.level1_rate_bp"]
    assert (food.value, food.kind, food.text) == (1_600, "int", "1600")
    assert food.label == "佣金比例 › 类目默认比例（新建商品） › food › 一级佣金（基点，100 = 1%）"
    assert fields["commission.self_purchase"].kind == "bool" and fields["commission.self_purchase"].text == "false"
    assert fields["tiers.1.min_team"].value == 50  # list positions as numbers
    assert fields["tier_downgrade"].kind == "text"
    keys = [key for key, _, _ in rules_form.sections(RULES)]
    assert keys[:3] == ["commission", "tiers", "tier_downgrade"] and set(keys) == set(RULES)


def test_apply_puts_values_back_in_their_json_types_and_ignores_unknown_paths() -> None:
    after = rules_form.apply(RULES, {"commission.category_rates.food.level1_rate_bp": " 1900 ",
                                     "commission.self_purchase": "true", "tiers.0.min_direct": "12",
                                     "tier_downgrade": "never", "no.such.path": "1", "commission": "x"})
    assert after["commission"]["category_rates"]["food"]["level1_rate_bp"] == 1_900
    assert after["commission"]["self_purchase"] is True and after["tiers"][0]["min_direct"] == 12
    assert after["tier_downgrade"] == "never" and "no" not in after
    assert RULES["commission"]["category_rates"]["food"]["level1_rate_bp"] == 1_600  # the input is not changed
    assert [c.path for c in rules_form.changes(RULES, after)] == [
        "commission.category_rates.food.level1_rate_bp", "commission.self_purchase", "tiers.0.min_direct",
        "tier_downgrade"]


def test_text_that_is_not_of_its_type_is_named_field_by_field() -> None:
    with pytest.raises(DomainError) as refused:
        rules_form.apply(RULES, {"orders.auto_confirm_days": "ten", "commission.self_purchase": "yes",
                                 "orders.payment_minutes": "15"})
    assert refused.value.code == "VALIDATION_FAILED"
    assert [f["field"] for f in refused.value.details["fields"]] == ["commission.self_purchase",
                                                                      "orders.auto_confirm_days"]


def test_changes_name_added_and_removed_leaves() -> None:
    after = {**RULES, "experiments": {**RULES["experiments"], "new_home": {"variants": {"A": 1, "B": 1}}}}
    del after["experiments"]["home_layout"]
    changed = {c.path: (c.before, c.after) for c in rules_form.changes(RULES, after)}
    assert changed["experiments.new_home.variants.A"] == (None, 1)
    assert changed["experiments.home_layout.variants.A"] == (50, None)
    assert rules_form.changes(RULES, RULES) == []
