"""Shared fixtures. The fast tiers run on moto's ``mock_aws``; tests/race uses DynamoDB Local."""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

# Settings for every test, before anything reads them; moto before any botocore client.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "cn-north-1",
    "FENXIAO_MODE": "simulator", "JWT_SECRET": "test-secret-test-secret-test-secret-0123",
    "OTEL_SDK_DISABLED": "true", "POWERTOOLS_DEV": "false", "POWERTOOLS_LOG_LEVEL": "WARNING",
})
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL_S3", None)
os.environ.pop("MEDIA_BASE_URL", None)

import moto  # noqa: F401
import pytest

from chalicelib.bootstrap import Deps, set_default_deps


class MutableClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


START = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(START)


@pytest.fixture
def aws() -> Iterator[None]:
    """Fresh moto-backed tables for one test."""
    from moto import mock_aws

    from chalicelib.store.tables import ensure_tables, reset_connections

    with mock_aws():
        reset_connections()
        ensure_tables()
        yield
    reset_connections()


@pytest.fixture
def deps(aws: None, clock: MutableClock) -> Iterator[Deps]:
    d = Deps(clock=clock)
    set_default_deps(d)
    yield d
    set_default_deps(None)


@pytest.fixture
def client(deps: Deps) -> Iterator[object]:
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="test") as c:
        yield c
