"""A hung database (DynamoDB Local stopped with SIGSTOP: it accepts connections and never answers)
costs a request its DynamoDB time budget, not API Gateway's 29 s: the app answers 503 TRY_AGAIN
with Retry-After within 10 s, and answers normally again once the database is continued
(docs/ops.md "Time budgets").

The test starts a DynamoDB Local of its own: pausing the session's would stall every other test."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from scripts.dynamodb_local import LocalDynamo
from scripts.dynamodb_local import start as start_dynamodb_local
from tests.api.conftest import Api
from tests.faults import own_tables

pytestmark = pytest.mark.race

LIMIT_SECONDS = 10.0  # the bound; the budgets give up after ~3 s (2 attempts × 1.5 s read)


@pytest.fixture
def own_db() -> Iterator[LocalDynamo]:
    db = start_dynamodb_local()
    try:
        yield db
    finally:
        _signal(db, signal.SIGCONT)  # a stopped process would not act on SIGTERM
        db.stop()


@pytest.fixture
def api(own_db: LocalDynamo) -> Iterator[Api]:
    from chalice.test import Client

    import app
    from chalicelib.bootstrap import Deps, set_default_deps

    with own_tables(own_db.endpoint):
        set_default_deps(Deps())
        try:
            with Client(app.app, stage_name="test") as client:
                yield Api(client)
        finally:
            set_default_deps(None)


def _signal(db: LocalDynamo, sig: signal.Signals) -> None:
    if db.is_running():
        os.killpg(db.pid, sig)  # its own session: the server and anything it started


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


@contextmanager
def paused(db: LocalDynamo) -> Iterator[None]:
    """The server stopped (SIGSTOP; its listening socket still accepts connections) until the
    block ends (SIGCONT), whatever happens inside."""
    _signal(db, signal.SIGSTOP)
    try:
        for _ in range(500):  # the stop is asynchronous: wait until the kernel reports it
            if _state(db.pid) == "T":
                break
            time.sleep(0.01)
        yield
    finally:
        _signal(db, signal.SIGCONT)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_hung_database_answers_503_try_again_within_10_seconds_and_normal_answers_after_it_resumes(api, own_db):
    token, _ = api.login("before-the-pause")
    products = {"Authorization": f"Bearer {token}"}
    assert api.call("GET", "/v1/products", token=token)[0] == 200

    with paused(own_db):
        read, read_seconds = timed(lambda: api.client.http.get("/v1/products", headers=products))
        (write_status, write_body), write_seconds = timed(lambda: api.call("POST", "/v1/auth/login",
                                                                            {"code": "dev:during-the-pause"}))

    assert read.status_code == 503 and read.headers["Retry-After"] == "1", read.body
    assert b"TRY_AGAIN" in read.body
    assert (write_status, write_body["error"]["code"]) == (503, "TRY_AGAIN")
    assert read_seconds < LIMIT_SECONDS and write_seconds < LIMIT_SECONDS, (read_seconds, write_seconds)
    print(f"\nhung database: a read answered 503 in {read_seconds:.1f} s, a login in {write_seconds:.1f} s")

    assert api.call("GET", "/v1/products", token=token)[0] == 200
    assert api.login("during-the-pause")  # the same request again, as the client retries it
