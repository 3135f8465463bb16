"""The console's server time per page (issue 17): every operator page GET through the app (the
chalice test client, as the API figures), signed in, on DynamoDB Local holding the demo mall of
``make dev`` (a shorter walk: ``DAYS`` days, since a page reads a page of 50 whatever the mall's
size, and the walk takes minutes on a loaded machine), each page ``REPEATS`` times after a first visit
that pays the page's first-use costs (its lazy imports, the template's compilation). The figure
is the median of each page and the median over the pages, with the DynamoDB calls of one visit.

``python -m bench.console`` runs it alone; ``make bench`` runs it with the rest.
"""
from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import time
from typing import Any

from bench.report import table

DAYS = 5
REPEATS = 5
PAGES = ("/console/orders", "/console/distributors", "/console/distributors/{partner}", "/console/withdrawals",
         "/console/moderation", "/console/lexicon", "/console/materials", "/console/settings",
         "/console/settings/versions", "/console/audit")


def run(days: int = DAYS, repeats: int = REPEATS) -> dict[str, Any]:
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        from chalice.test import Client

        import app
        from bench.env import REPO_ROOT
        from bench.meter import DynamoMeter
        from chalicelib.bootstrap import Deps, set_default_deps
        from chalicelib.jobs.demo_mall import PARTNER, seed_demo_mall
        from chalicelib.services.demo import seed_demo
        from chalicelib.store.tables import all_models, ensure_tables, reset_connections
        from chalicelib.store.users import user_id_for
        from tests.api.console_client import ConsoleClient

        reset_connections()
        ensure_tables()
        deps = Deps()
        seeded = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            seed_demo(deps)
            mall = seed_demo_mall(deps, days=days)
        seed_seconds = time.perf_counter() - seeded
        set_default_deps(Deps())
        meter = DynamoMeter()
        meter.attach_models(all_models())
        rows = []
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                Client(app.app, stage_name="test", project_dir=str(REPO_ROOT)) as client:
            browser = ConsoleClient(client)
            browser.sign_in()
            for template in PAGES:
                path = template.format(partner=user_id_for(f"dev:{PARTNER}"))
                _visit(browser, path)  # first use
                millis = []
                for _ in range(repeats):
                    meter.reset()
                    started = time.perf_counter()
                    _visit(browser, path)
                    millis.append((time.perf_counter() - started) * 1000)
                    snap = meter.take()
                rows.append({"page": template, "median_ms": statistics.median(millis), "round_trips": snap.round_trips,
                             "described": snap.describe_calls()})
        set_default_deps(None)
        reset_connections()
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    return {"backend": db.backend, "days": days, "orders": mall.get("orders", 0), "seed_seconds": seed_seconds,
            "repeats": repeats, "pages": rows, "median_over_pages_ms": statistics.median(r["median_ms"] for r in rows)}


def _visit(browser: Any, path: str) -> None:
    answer = browser.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"{path} answered {answer.status_code}")


def section(result: dict[str, Any]) -> str:
    rows = [[r["page"], f"{r['median_ms']:.0f}", r["round_trips"], r["described"]] for r in result["pages"]]
    return "\n".join([
        f"console pages: server time per GET against {result['backend']}, signed in, on the demo mall of "
        f"{result['days']} days ({result['orders']} orders; seeded in {result['seed_seconds']:.0f} s), "
        f"median of {result['repeats']}",
        table(["page", "ms (median)", "DynamoDB round trips", "calls"], rows),
        f"median over the {len(rows)} pages: {result['median_over_pages_ms']:.0f} ms",
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
