"""Settings from the environment (chalicelib/config.py): DOMAIN.md defaults, validated overrides."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.config import Mode, settings_from_env
from chalicelib.domain.binding import BindableUsers, BindingDuration, BindingPolicy, PromoterPolicy
from chalicelib.domain.invitations import Milestone
from chalicelib.domain.tiers import Tier

SECRET = "k" * 32


def rules(override: object) -> dict[str, str]:
    return {"JWT_SECRET": SECRET, "FENXIAO_RULES": json.dumps(override)}


def test_the_default_rules_are_those_of_the_domain():
    settings = settings_from_env({})
    assert settings.mode is Mode.SIMULATOR and settings.simulator
    assert settings.rules.binding.policy() == BindingPolicy(
        PromoterPolicy.EVERYONE, 0, BindableUsers.NEW_ONLY, BindingDuration.PERMANENT, 30)
    tiers = settings.rules.tier_rules()
    senior, partner = tiers.rules
    assert (senior.tier, senior.min_direct, senior.min_month_sales_fen, senior.uplift_bp) == (Tier.SENIOR, 10, 500_000, 500)
    assert (partner.tier, partner.min_team, partner.min_month_sales_fen, partner.uplift_bp) == (
        Tier.PARTNER, 50, 10_000_000, 1_000)
    assert tiers.downgrade == "month_end"
    assert settings.rules.ladder().milestones == (Milestone(10, "gift_pack"), Milestone(50, "cash", 5_000))


def test_simulator_mode_without_a_jwt_secret_makes_a_throwaway_one():
    assert len(settings_from_env({}).jwt_secret) >= 32


def test_admin_openids_are_a_comma_separated_list():
    assert settings_from_env({"ADMIN_OPENIDS": " a, b,,c "}).admin_openids == {"a", "b", "c"}
    assert settings_from_env({"ADMIN_OPENIDS": ""}).admin_openids == frozenset()
    assert settings_from_env({}).admin_openids == {"dev:admin"}


def test_plain_settings_are_read_from_their_variables():
    settings = settings_from_env({"JWT_SECRET": SECRET, "TOKEN_TTL_SECONDS": "3600", "USERS_TABLE": "users-x"})
    assert (settings.jwt_secret, settings.token_ttl_seconds, settings.users_table) == (SECRET, 3600, "users-x")


def test_a_rules_override_changes_only_what_it_names():
    settings = settings_from_env(rules({"binding": {"duration": "days", "duration_days": 7}}))
    policy = settings.rules.binding.policy()
    assert (policy.duration, policy.duration_days, policy.bindable) == (BindingDuration.DAYS, 7, BindableUsers.NEW_ONLY)
    assert settings.rules.tier_rules().rules[0].min_direct == 10


@pytest.mark.parametrize("override", [
    {"tier_downgrade": "sometimes"},
    {"unknown_rule": 1},
    {"binding": {"duration": "forever"}},
    {"binding": {"duration_days": 0}},
    {"tiers": [{"tier": "regular"}]},
    {"tiers": [{"tier": "senior", "uplift_bp": 1_000}, {"tier": "partner", "uplift_bp": 500}]},
    {"invitation_ladder": [{"invitees": 10, "reward": "cash", "cash_fen": 0}]},
], ids=["unknown-downgrade", "unknown-key", "unknown-duration", "zero-days", "regular-tier-named", "decreasing-uplift",
        "cash-without-amount"])
def test_an_invalid_rules_override_fails_at_start_up(override):
    with pytest.raises(ValidationError):
        settings_from_env(rules(override))


def test_live_mode_without_the_wechat_app_secret_is_refused():
    with pytest.raises(ValidationError, match="WECHAT_APP_SECRET"):
        settings_from_env({"FENXIAO_MODE": "live", "JWT_SECRET": SECRET, "ID_HASH_KEY": SECRET})


PAY = {f"WECHAT_PAY_{name}": "x" for name in ("MCH_ID", "APIV3_KEY", "MERCHANT_SERIAL", "MERCHANT_PRIVATE_KEY",
                                               "PLATFORM_PUBLIC_KEY", "PLATFORM_KEY_ID", "NOTIFY_URL")}


def test_live_mode_with_its_secrets_runs_without_the_simulator():
    settings = settings_from_env({"FENXIAO_MODE": "live", "JWT_SECRET": SECRET, "ID_HASH_KEY": SECRET,
                                  "WECHAT_APP_SECRET": "s", **PAY})
    assert settings.mode is Mode.LIVE and not settings.simulator


def test_live_mode_gets_no_throwaway_id_hash_key():
    with pytest.raises(ValidationError, match="id_hash_key"):
        settings_from_env({"FENXIAO_MODE": "live", "JWT_SECRET": SECRET, "WECHAT_APP_SECRET": "s", **PAY})


def test_live_mode_refuses_to_start_without_its_wechat_pay_keys():
    with pytest.raises(ValidationError, match="WECHAT_PAY_APIV3_KEY"):
        settings_from_env({"FENXIAO_MODE": "live", "JWT_SECRET": SECRET, "ID_HASH_KEY": SECRET,
                           "WECHAT_APP_SECRET": "s", **{k: v for k, v in PAY.items() if k != "WECHAT_PAY_APIV3_KEY"}})


def test_live_mode_gets_no_throwaway_jwt_secret():
    with pytest.raises(ValidationError):
        settings_from_env({"FENXIAO_MODE": "live", "WECHAT_APP_SECRET": "s"})


def test_a_jwt_secret_shorter_than_32_characters_is_refused():
    with pytest.raises(ValidationError):
        settings_from_env({"JWT_SECRET": "k" * 31})


def test_the_default_time_budgets_keep_the_longest_request_inside_api_gateways_29_seconds():
    budgets = settings_from_env({}).budgets
    assert budgets.dynamodb_call_seconds() == pytest.approx(2 * (0.5 + 1.5) + 0.025)  # two attempts, one short wait
    assert budgets.wechat_call_seconds() == 2 * 1.0 + 3.0  # a connect tried twice, one read
    assert budgets.request_seconds() == pytest.approx(5 * 4.025 + 5.0)  # a refund: 5 DynamoDB calls and WeChat Pay
    assert budgets.request_seconds() <= 29 - 2


def test_time_budgets_are_overridden_one_variable_each():
    budgets = settings_from_env({"DYNAMODB_CONNECT_TIMEOUT_SECONDS": "0.2", "DYNAMODB_READ_TIMEOUT_SECONDS": "0.8",
                                 "DYNAMODB_MAX_ATTEMPTS": "3", "WECHAT_CONNECT_TIMEOUT_SECONDS": "0.5",
                                 "WECHAT_READ_TIMEOUT_SECONDS": "2"}).budgets
    assert (budgets.dynamodb_connect_seconds, budgets.dynamodb_read_seconds, budgets.dynamodb_attempts,
            budgets.wechat_connect_seconds, budgets.wechat_read_seconds) == (0.2, 0.8, 3, 0.5, 2.0)


@pytest.mark.parametrize("env", [{"DYNAMODB_READ_TIMEOUT_SECONDS": "5"}, {"DYNAMODB_MAX_ATTEMPTS": "4"},
                                 {"WECHAT_READ_TIMEOUT_SECONDS": "10"}, {"DYNAMODB_READ_TIMEOUT_SECONDS": "0"}])
def test_budgets_that_would_outlast_api_gateway_or_never_wait_are_refused_at_start_up(env):
    with pytest.raises(ValidationError):
        settings_from_env(env)
