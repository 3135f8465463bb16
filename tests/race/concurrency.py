"""Running calls at the same moment, for the race tests."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.errors import DomainError


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (released together by a barrier); each result or DomainError code."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def login(deps: Any, prefix: str) -> str:
    """A new user (a fresh ``dev:`` code) logged in; their user id."""
    import uuid

    from chalicelib.services import auth

    return str(auth.login(f"dev:{prefix}{uuid.uuid4().hex[:8]}", deps).user.user_id)
