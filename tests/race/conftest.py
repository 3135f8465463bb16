"""Fixtures for the race tests: AWS's DynamoDB Local, started once per test session.

Races, concurrency and consumed-capacity figures need a database whose requests are atomic
under concurrency; moto's in-process ``mock_aws`` is not. The session starts DynamoDB Local in
memory on a free port (the moto fallback, behind one global lock, where Java is missing: see
``scripts/dynamodb_local.py``) and stops it, with its whole process group, at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.store.tables import reset_connections
from scripts.dynamodb_local import LocalDynamo
from scripts.dynamodb_local import start as start_dynamodb_local

if TYPE_CHECKING:
    from tests.faults import DynamoFaults


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[LocalDynamo]:
    """The session's DynamoDB Local (in memory, free port); ``.endpoint`` is its URL."""
    db = start_dynamodb_local()
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture
def local_env(
    dynamodb_local: LocalDynamo, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalDynamo]:
    """Point boto3 and PynamoDB at :func:`dynamodb_local` for one test, with fake credentials.

    PynamoDB caches a connection per model class, so the cached connections are dropped after
    the environment changes and again after the test (before monkeypatch restores it).
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)
    reset_connections()
    yield dynamodb_local
    reset_connections()


@pytest.fixture
def deps(local_env: LocalDynamo) -> Deps:
    """The app's adapters over DynamoDB Local, with every table present."""
    from chalicelib.store.tables import ensure_tables
    from tests.faults import keep_expired_items

    ensure_tables()
    keep_expired_items()
    return Deps()


@pytest.fixture(scope="module")
def private_tables(dynamodb_local: LocalDynamo) -> Iterator[None]:
    """Every table under a name of this test module's own (``tests/faults.own_tables``): for the
    modules that save and restore whole tables or leave work for the jobs. Such a module defines
    its own ``deps`` over them (its clock), usually ``restore({})`` first."""
    from tests.faults import own_tables

    with own_tables(dynamodb_local.endpoint):
        yield


@pytest.fixture
def faults(deps: Deps) -> Iterator[DynamoFaults]:
    """A fault injector on every model's client (``tests/faults.DynamoFaults``), disarmed after."""
    from chalicelib.store.tables import all_models
    from tests.faults import DynamoFaults

    injector = DynamoFaults()
    injector.attach(all_models())
    yield injector
    injector.disarm()
