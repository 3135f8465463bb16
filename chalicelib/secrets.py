"""The deployment's secrets, read from AWS Secrets Manager at run time (docs/deploy.md "Secrets").

The functions' environment names the secret (``FENXIAO_SECRET_ID``: a name or an ARN), never its
values: anyone who may read a function's configuration would read them there. The secret is one
JSON object whose keys are setting variables (``JWT_SECRET``, ``ID_HASH_KEY``, ``WECHAT_APP_SECRET``,
the WeChat Pay keys, ...); its values are laid over the environment when the settings are built
(``chalicelib.config.get_settings``), so services keep reading plain values from ``Settings``.

Read with Powertools Parameters on first use (never at import: boto3 costs ~400 ms of cold start),
cached in the process for ``MAX_AGE_SECONDS`` and read again after that, so a rotated value reaches
every warm container within that time. One read has a time budget well inside API Gateway's 29 s.
Without ``FENXIAO_SECRET_ID`` (``make dev``, the tests) nothing is read and the environment rules.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

SECRET_ID_VAR = "FENXIAO_SECRET_ID"  # noqa: S105 -- the variable naming the secret, not a secret
MAX_AGE_SECONDS = 300  # a rotated value is in force everywhere within 5 minutes
# One GetSecretValue: connect ≤ 1 s, answer ≤ 2 s, 2 attempts in all: ≤ ~7 s with the back-off.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 2

# Keys the secret must hold: the keys that sign and hash (a live API without them cannot start).
REQUIRED_KEYS = ("JWT_SECRET", "ID_HASH_KEY")
# Keys it may hold: the credentials, and the account's own values that the stage's configuration
# leaves to the secret rather than to the repository (Settings checks what live mode needs).
SECRET_KEYS = (
    *REQUIRED_KEYS,
    "WECHAT_APP_ID", "WECHAT_APP_SECRET", "ADMIN_OPENIDS",
    "WECHAT_PAY_MCH_ID", "WECHAT_PAY_APIV3_KEY", "WECHAT_PAY_MERCHANT_SERIAL", "WECHAT_PAY_MERCHANT_PRIVATE_KEY",
    "WECHAT_PAY_PLATFORM_PUBLIC_KEY", "WECHAT_PAY_PLATFORM_KEY_ID", "WECHAT_PAY_NOTIFY_URL",
    "WECHAT_TRANSFER_NOTIFY_URL",
    "KUAIDI100_KEY", "KUAIDI100_CUSTOMER", "KUAIDI100_SALT_KEY", "KUAIDI100_CALLBACK_BASE",
)
# Settings whose values are credentials: no deployed function's environment holds them
# (tests/infra/test_package.py); locally and in the tests the environment may.
CREDENTIAL_KEYS = ("JWT_SECRET", "ID_HASH_KEY", "WECHAT_APP_SECRET", "WECHAT_PAY_APIV3_KEY",
                   "WECHAT_PAY_MERCHANT_PRIVATE_KEY", "KUAIDI100_KEY", "KUAIDI100_SALT_KEY")


class SecretError(RuntimeError):
    """The configured secret cannot be read or does not hold what the settings need. The message
    names the secret and the keys, never a value."""


def secret_settings(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The secret's settings as sorted (variable, value) pairs; () when no secret is configured.
    Served from the process cache while it is younger than MAX_AGE_SECONDS."""
    secret_id = env.get(SECRET_ID_VAR, "").strip()
    if not secret_id:
        return ()
    try:
        return tuple(sorted(check_secret(secret_id, _read(secret_id)).items()))
    except SecretError:
        provider().clear_cache()  # a fixed secret is read again on the next use, not after the max age
        raise


def check_secret(secret_id: str, value: Any) -> dict[str, str]:
    """The secret's values, or SecretError when it is not a JSON object of known, non-empty strings
    that holds every required key."""
    if not isinstance(value, dict):
        raise SecretError(f"secret {secret_id!r} must be a JSON object of settings, not {type(value).__name__}")
    unknown = sorted(k for k in value if k not in SECRET_KEYS)
    missing = [k for k in REQUIRED_KEYS if k not in value]
    empty = sorted(k for k, v in value.items() if k in SECRET_KEYS and (not isinstance(v, str) or not v.strip()))
    problems = [f"{label}: {', '.join(keys)}" for label, keys in
                (("missing keys", missing), ("unknown keys", unknown), ("empty or not a string", empty)) if keys]
    if problems:
        raise SecretError(f"secret {secret_id!r} ({SECRET_ID_VAR}): " + "; ".join(problems))
    return dict(value)


def _read(secret_id: str) -> Any:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    try:
        return provider().get(secret_id, max_age=MAX_AGE_SECONDS, transform="json")
    except TransformParameterError as exc:
        raise SecretError(f"secret {secret_id!r} ({SECRET_ID_VAR}) is not valid JSON") from exc
    except GetParameterError as exc:
        raise SecretError(f"cannot read secret {secret_id!r} ({SECRET_ID_VAR}): {exc}") from exc


@lru_cache(maxsize=1)
def provider() -> SecretsProvider:
    """The process's Secrets Manager provider (Powertools), with its cache and time budget."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config

    config = Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"})
    return SecretsProvider(boto_config=config)


def reset() -> None:
    """Forget the provider and its cache (tests; a new moto account)."""
    provider.cache_clear()
