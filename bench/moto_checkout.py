"""Checkouts per second in-process against moto's ``mock_aws`` (no network, no Java): what the
order path costs in Python, at 1, 4 and 16 threads. moto is not thread-safe, so the threaded
figures run through one lock around each checkout: they show contention cost, not scaling."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ADDRESS = {"name": "bench", "phone": "13800000000", "detail": "bench"}


def run(n: int) -> dict[str, Any]:
    from moto import mock_aws

    from chalicelib.bootstrap import Deps
    from chalicelib.domain.catalog import Product
    from chalicelib.services import auth, orders
    from chalicelib.store.tables import ensure_tables, reset_connections

    endpoint = os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    results: dict[str, Any] = {}
    try:
        with mock_aws():
            reset_connections()
            ensure_tables()
            deps = Deps()
            deps.products.put_if_absent(Product("bench-p", "bench", "food", 100, 1_000, 10**6, 1_000, 500),
                                        deps.clock())
            buyer = auth.login("dev:bench-buyer", deps).user.user_id
            lock = threading.Lock()

            def checkout(i: int) -> None:
                body = {"items": [{"product_id": "bench-p", "quantity": 1}], "address": ADDRESS}
                with lock:
                    orders.place_order(buyer, [("bench-p", 1)], body, f"k{i}-{time.monotonic_ns()}", deps)

            for threads in (1, 4, 16):
                started = time.perf_counter()
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(checkout, range(n)))
                elapsed = time.perf_counter() - started
                results[str(threads)] = {"n": n, "per_s": n / elapsed, "mean_ms": elapsed / n * 1000}
        reset_connections()
    finally:
        if endpoint:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return results


def section(results: dict[str, Any]) -> str:
    rows = ["Checkouts in-process against moto (one product, one line; includes prepay with the Pay simulator)",
            "threads      n   per s  mean ms"]
    for threads, r in results.items():
        rows.append(f"{threads:>7} {r['n']:>6} {r['per_s']:>7.0f} {r['mean_ms']:>8.1f}")
    return "\n".join(rows)
