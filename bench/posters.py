"""Share posters (docs/posters.md): ``GET /v1/me/poster`` cold (composed: the product's image
from S3, the mini-program code from the simulator, Pillow, the PUT) and cached (one S3 GET),
through the app (the chalice test client), on moto in-process (DynamoDB and S3), with the
DynamoDB and S3 round trips of one request. Moto answers in microseconds, so the times are our
code's (the composition dominates a cold one); a deployed S3 GET adds its ~10–30 ms.

``python -m bench.posters`` runs it alone; ``make bench`` runs it with the rest.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from typing import Any

from bench.report import table

REPEATS = 7


def run(repeats: int = REPEATS) -> dict[str, Any]:
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws(), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        import app
        from bench.env import REPO_ROOT
        from bench.meter import DynamoMeter
        from chalicelib.bootstrap import Deps, set_default_deps
        from chalicelib.domain.catalog import Product
        from chalicelib.store.tables import all_models, ensure_tables, reset_connections
        from tests.api.conftest import Api
        from tests.images import png, uploaded

        reset_connections()
        ensure_tables()
        deps = Deps()
        set_default_deps(deps)
        deps.media.ensure_bucket()
        dynamo = DynamoMeter()
        dynamo.attach_models(all_models())
        s3_calls: list[str] = []
        deps.media.client.meta.events.register("before-send.s3", lambda **kw: s3_calls.append("s3") and None)
        picture = uploaded(deps, png(800, 800, (200, 120, 90)))
        rows: list[dict[str, Any]] = []
        with Client(app.app, stage_name="test", project_dir=str(REPO_ROOT)) as client:
            api = Api(client)
            token = api.distributor("bench-poster")[0]
            headers = {"Authorization": f"Bearer {token}", "Accept": "image/png"}
            for i in range(repeats + 1):  # the first pays the first-use costs (imports, fonts)
                deps.products.put_if_absent(Product(f"p-bench-{i}", f"焕颜精华 第{i}批", "beauty", 5_000, 15_000, 10,
                                                    2_000, 500, images=(picture,)), deps.clock())
            client.http.get("/v1/me/poster?product_id=p-bench-0", headers=headers)  # first use
            size = 0
            for state in ("cold", "cached"):
                millis, trips = [], []
                for i in range(1, repeats + 1):
                    dynamo.reset()
                    s3_calls.clear()
                    started = time.perf_counter()
                    answer = client.http.get(f"/v1/me/poster?product_id=p-bench-{i}", headers=headers)
                    millis.append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200 or answer.headers["X-Poster-Cache"] != ("miss" if state == "cold"
                                                                                        else "hit"):
                        raise RuntimeError(f"poster {state}: {answer.status_code} {answer.headers}")
                    trips.append((dynamo.take().round_trips, len(s3_calls)))
                    if state == "cold" and i == 1:
                        size = len(answer.body)
                rows.append({"state": state, "median_ms": statistics.median(millis), "max_ms": max(millis),
                             "dynamodb": trips[-1][0], "s3": trips[-1][1]})
        set_default_deps(None)
        reset_connections()
    return {"repeats": repeats, "png_bytes": size, "rows": rows}


def section(result: dict[str, Any]) -> str:
    rows = [[r["state"], f"{r['median_ms']:.0f}", f"{r['max_ms']:.0f}", r["dynamodb"], r["s3"]] for r in result["rows"]]
    return "\n".join([
        f"posters: GET /v1/me/poster through the app on moto in-process, {result['repeats']} products each, "
        f"a 750×1200 PNG of {result['png_bytes']:,} bytes",
        table(["poster", "ms (median)", "ms (max)", "DynamoDB round trips", "S3 round trips"], rows, right=(1, 2, 3, 4)),
        "minimum: cached = 2 DynamoDB reads (the caller, the product: what the poster shows) + 1 S3 GET; "
        "cold adds the image GET, the code and the PUT",
    ])


def main() -> int:
    from bench.env import REPO_ROOT, apply_in_process

    apply_in_process()
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    print(section(run()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
