"""The deployed functions read their keys from Secrets Manager at run time (FENXIAO_SECRET_ID),
through Powertools Parameters, cached for MAX_AGE_SECONDS; without a secret id the environment
rules (make dev, the tests). On moto's Secrets Manager."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import base as powertools_cache
from moto import mock_aws

from chalicelib import bootstrap as deps_module
from chalicelib import secrets
from chalicelib.config import Mode, get_settings, settings_with
from chalicelib.secrets import MAX_AGE_SECONDS, SecretError, check_secret

SECRET_ID = "fenxiao/test"
LIVE = {
    "JWT_SECRET": "j" * 48, "ID_HASH_KEY": "h" * 48, "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "app-secret-from-the-secret", "ADMIN_OPENIDS": "o-admin-1,o-admin-2",
    "WECHAT_PAY_MCH_ID": "1900000109", "WECHAT_PAY_APIV3_KEY": "k" * 32, "WECHAT_PAY_MERCHANT_SERIAL": "SERIAL1",
    "WECHAT_PAY_MERCHANT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nstand-in\n-----END PRIVATE KEY-----",
    "WECHAT_PAY_PLATFORM_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nstand-in\n-----END PUBLIC KEY-----",
    "WECHAT_PAY_PLATFORM_KEY_ID": "PUB_KEY_ID_1", "WECHAT_PAY_NOTIFY_URL": "https://shop.example/v1/wechat/pay/notify",
    "WECHAT_TRANSFER_NOTIFY_URL": "https://shop.example/v1/wechat/transfer/notify",
}


def _fresh() -> None:
    secrets.reset()
    settings_with.cache_clear()
    deps_module.set_default_deps(None)


@pytest.fixture
def sm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Secrets Manager, the environment of a deployed live function (no keys in it)."""
    for var in ("JWT_SECRET", "ID_HASH_KEY", "WECHAT_APP_SECRET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FENXIAO_MODE", "live")
    monkeypatch.setenv("FENXIAO_SECRET_ID", SECRET_ID)
    with mock_aws():
        _fresh()
        yield boto3.client("secretsmanager", region_name="cn-north-1")
    _fresh()


@pytest.fixture
def calls(sm: Any) -> list[str]:
    """The GetSecretValue calls the process makes."""
    made: list[str] = []
    secrets.provider().client.meta.events.register(
        "provide-client-params.secrets-manager.GetSecretValue", lambda params, **kw: made.append(params["SecretId"]))
    return made


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the Powertools cache's clock forward."""
    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=seconds)

    monkeypatch.setattr(powertools_cache, "datetime", Later)


def test_a_live_function_takes_its_keys_from_the_secret_on_first_use(sm: Any, calls: list[str]) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(LIVE))
    assert calls == []  # nothing is read before the settings are needed
    settings = get_settings()
    assert settings.mode is Mode.LIVE
    assert settings.jwt_secret == LIVE["JWT_SECRET"] and settings.id_hash_key == LIVE["ID_HASH_KEY"]
    assert settings.wechat_app_secret == LIVE["WECHAT_APP_SECRET"]
    assert settings.wechat_pay_apiv3_key == LIVE["WECHAT_PAY_APIV3_KEY"]
    assert settings.admin_openids == frozenset({"o-admin-1", "o-admin-2"})
    assert calls == [SECRET_ID]


def test_the_secret_is_read_once_per_max_age_and_a_rotated_value_follows(
        sm: Any, calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(LIVE))
    first = get_settings()
    assert get_settings() is first and get_settings() is first
    assert calls == [SECRET_ID]

    sm.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({**LIVE, "WECHAT_APP_SECRET": "rotated"}))
    _later(monkeypatch, MAX_AGE_SECONDS - 5)
    assert get_settings() is first  # still within the max age: no call, old value
    _later(monkeypatch, MAX_AGE_SECONDS + 1)
    rotated = get_settings()
    assert rotated.wechat_app_secret == "rotated" and rotated.jwt_secret == first.jwt_secret
    assert calls == [SECRET_ID, SECRET_ID]


def test_the_process_adapters_are_rebuilt_with_a_rotated_secret(sm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(LIVE))
    before = deps_module.default_deps()
    assert deps_module.default_deps() is before and before.settings.wechat_app_secret == LIVE["WECHAT_APP_SECRET"]
    sm.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({**LIVE, "WECHAT_APP_SECRET": "rotated"}))
    _later(monkeypatch, MAX_AGE_SECONDS + 1)
    after = deps_module.default_deps()
    assert after is not before and after.settings.wechat_app_secret == "rotated"


def test_adapters_set_by_a_test_or_the_dev_server_are_kept(sm: Any) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(LIVE))
    mine = deps_module.Deps(settings=get_settings().model_copy(update={"mode": Mode.SIMULATOR}))
    deps_module.set_default_deps(mine)
    assert deps_module.default_deps() is mine


def test_a_missing_secret_fails_clearly_naming_the_secret_and_the_variable(sm: Any) -> None:
    with pytest.raises(SecretError, match=r"cannot read secret 'fenxiao/test' \(FENXIAO_SECRET_ID\).*"
                                          r"ResourceNotFoundException"):
        get_settings()


def test_a_secret_that_is_not_json_fails_clearly(sm: Any) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString="JWT_SECRET=abc")
    with pytest.raises(SecretError, match=r"'fenxiao/test' .* is not valid JSON"):
        get_settings()


def test_a_secret_without_a_required_key_fails_naming_the_key_but_no_value(sm: Any) -> None:
    partial = {k: v for k, v in LIVE.items() if k != "ID_HASH_KEY"}
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(partial))
    with pytest.raises(SecretError, match="missing keys: ID_HASH_KEY") as raised:
        get_settings()
    assert not [v for v in LIVE.values() if v in str(raised.value)]


def test_a_fixed_secret_is_read_again_on_the_next_use(sm: Any, calls: list[str]) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps({**LIVE, "JWT_SECERT": "typo"}))
    with pytest.raises(SecretError, match="unknown keys: JWT_SECERT"):
        get_settings()
    sm.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(LIVE))
    assert get_settings().jwt_secret == LIVE["JWT_SECRET"]
    assert calls == [SECRET_ID, SECRET_ID]


def test_a_live_secret_without_the_wechat_keys_is_refused_by_the_settings(sm: Any) -> None:
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps({"JWT_SECRET": "j" * 48, "ID_HASH_KEY": "h" * 48}))
    with pytest.raises(ValueError, match="WECHAT_APP_SECRET is required in live mode"):
        get_settings()


@pytest.mark.parametrize(("value", "problem"), [
    (["JWT_SECRET"], "must be a JSON object of settings, not list"),
    ({**LIVE, "JWT_SECERT": "typo"}, "unknown keys: JWT_SECERT"),
    ({**LIVE, "WECHAT_APP_SECRET": ""}, "empty or not a string: WECHAT_APP_SECRET"),
    ({**LIVE, "JWT_SECRET": 42}, "empty or not a string: JWT_SECRET"),
])
def test_a_malformed_secret_is_refused(value: Any, problem: str) -> None:
    with pytest.raises(SecretError, match=problem):
        check_secret(SECRET_ID, value)


def test_one_read_of_the_secret_stays_well_inside_api_gateways_29_seconds(sm: Any) -> None:
    config = secrets.provider().client.meta.config
    assert config.connect_timeout == secrets.CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == secrets.READ_TIMEOUT_SECONDS
    assert config.retries == {"total_max_attempts": secrets.MAX_ATTEMPTS, "mode": "standard"}
    worst = secrets.MAX_ATTEMPTS * (config.connect_timeout + config.read_timeout) + 1  # + standard back-off
    assert worst <= 10


def test_without_a_secret_id_nothing_is_read_and_the_environment_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FENXIAO_SECRET_ID", raising=False)
    _fresh()
    try:
        assert secrets.secret_settings({}) == ()
        assert get_settings().jwt_secret == "test-secret-test-secret-test-secret-0123"  # tests/conftest.py
        assert secrets.provider.cache_info().currsize == 0  # no client was built
    finally:
        _fresh()
