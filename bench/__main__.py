"""``python -m bench`` (``make bench``): DynamoDB calls per request, throughput and cold start.

Prints plain-text tables and writes ``bench/results/latest.json``. Figures are measurements, not
checks: nothing here fails on a slow figure (a broken request does fail).
See docs/performance.md.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.env import REPO_ROOT, apply_in_process

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version()}


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run_dynamodb_part(args: argparse.Namespace) -> dict[str, Any]:
    """Start DynamoDB Local, point the app at it, and measure requests through the app."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from scripts import dynamodb_local

    _log("starting DynamoDB Local")
    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        from chalice.test import Client

        import app
        from bench import api as scenarios
        from bench.meter import DynamoMeter
        from chalicelib.bootstrap import Deps, set_default_deps
        from chalicelib.services.demo import seed_demo
        from chalicelib.store.tables import all_models, ensure_tables, reset_connections

        reset_connections()
        ensure_tables()
        models = all_models()
        meter = DynamoMeter()
        clients = meter.attach_models(models)
        seed_demo(Deps())
        set_default_deps(Deps())
        _log(f"{db.backend} at {db.endpoint}; {clients} distinct botocore clients hooked; running requests")
        # The app logs (INFO) and prints EMF metrics on stdout, as in Lambda: keep that work, drop the text.
        # The Powertools Logger binds to the stdout of its first use, which happens inside this block.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                Client(app.app, stage_name="test", project_dir=str(REPO_ROOT)) as client:
            http = scenarios.Api(client.http)
            http.products(http.login("warm-up"))  # first-use costs (lazy imports, first clients) stay out
            tree = scenarios.build_tree(http)
            from bench import centre, fulfilment, leaderboards, money, pricing

            results = scenarios.run_scenarios(http, meter, tree, args.repeats,
                                              extra=money.SCENARIOS + fulfilment.SCENARIOS + pricing.SCENARIOS
                                              + leaderboards.SCENARIOS + centre.SCENARIOS)
            _log(f"throughput: {args.n} logins, {args.n} binds")
            throughput = scenarios.run_throughput(http, meter, tree, args.n)
            load = None
            if args.load_seconds > 0:
                from bench import mixed_load

                _log(f"mixed load: {args.load_seconds:.0f} s on {args.load_threads} threads, then the invariants")
                load = mixed_load.figures(Deps(), args.load_seconds, args.load_threads)
        meter.check_hooked(models)
        set_default_deps(None)
        return {"backend": db.backend, "botocore_clients": clients, "requests": results, "throughput": throughput,
                **({"mixed_load": load} if load else {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per cold-start figure (default 7)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of each request scenario (default 5)")
    parser.add_argument("-n", type=int, default=200, help="requests per throughput figure (default 200)")
    parser.add_argument("--settle", type=int, default=10_000, help="commissions the settlement figure settles")
    parser.add_argument("--load-seconds", type=float, default=60, help="mixed load duration (default 60; 0 skips)")
    parser.add_argument("--load-threads", type=int, default=12, help="mixed load threads (default 12)")
    parser.add_argument("--skip-coldstart", action="store_true")
    parser.add_argument("--skip-dynamodb", action="store_true", help="skip the request and throughput parts")
    parser.add_argument("--skip-moderation", action="store_true", help="skip the moderation matcher part")
    parser.add_argument("--skip-capacity", action="store_true", help="skip the jobs' capacity part (docs/capacity.md)")
    parser.add_argument("--only-capacity", action="store_true", help="run only the jobs' capacity part")
    args = parser.parse_args(argv)

    apply_in_process()
    started = time.perf_counter()
    output: dict[str, Any] = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                              "machine": _machine()}
    from bench import report

    # Cold start first, while no DynamoDB Local competes for the two cores.
    if not args.skip_coldstart:
        from bench import coldstart

        _log(f"cold start: {args.runs} runs per figure")
        output["coldstart"] = coldstart.run_all(args.runs)
        from bench import coldstart_package

        _log(f"cold start from the deployment package: make package's zips, {args.runs} runs each")
        output["coldstart_package"] = coldstart_package.run(args.runs)
    if not args.skip_moderation:
        from bench import moderation

        _log("moderation matcher: build time and checks per second, 1k/10k words x 500/5,000 characters")
        output["moderation"] = moderation.run()
    if args.only_capacity:
        args.skip_coldstart = args.skip_moderation = args.skip_dynamodb = True
    if not args.skip_capacity:
        from bench import capacity

        output["capacity"] = capacity.run_all()
    if not args.skip_dynamodb:
        from bench import moto_checkout

        _log(f"checkout throughput against moto: {args.n} per thread count")
        output["moto_checkout"] = moto_checkout.run(args.n)
        from bench import settlement

        _log(f"settlement against moto: {args.settle:,} frozen commissions")
        output["settlement"] = settlement.run(args.settle)
        from bench import recommendations

        _log("recommendations on DynamoDB Local: the daily job with 1 and 30 days of baskets, the reads")
        output["recommendations"] = recommendations.run()
        from bench import metrics

        _log("daily metrics on DynamoDB Local: compute_metrics with 1 and 30 days of history, event ingestion")
        output["metrics"] = metrics.run()
        from bench import console

        _log("console pages on DynamoDB Local: server time per page over a demo mall")
        output["console"] = console.run()
        from bench import posters

        _log("posters: GET /v1/me/poster cold (composed) and cached, on moto in-process")
        output["posters"] = posters.run()
        from bench import job_memory

        _log("Lambda memory: CPU against DynamoDB wait of the settlement job and of API requests")
        output["job_memory"] = job_memory.run()
        output.update(run_dynamodb_part(args))
    output["bench_seconds"] = time.perf_counter() - started

    machine = output["machine"]
    print(f"fenxiao bench, {output['date']}, {machine['cpus']} CPUs ({machine['cpu']}), Python {machine['python']}")
    if "requests" in output:
        backend = output["backend"]
        if backend != "dynamodb-local":
            print(f"WARNING: ran on {backend}, not DynamoDB Local: capacity figures are not DynamoDB's")
        print()
        print(report.api_section(output["requests"], backend))
        print()
        print(report.throughput_section(output["throughput"], backend))
    if "mixed_load" in output:
        from bench import mixed_load

        print()
        print(mixed_load.section(output["mixed_load"]))
    if "moto_checkout" in output:
        from bench import moto_checkout

        print()
        print(moto_checkout.section(output["moto_checkout"]))
    if "settlement" in output:
        from bench import settlement

        print()
        print(settlement.section(output["settlement"]))
    if "recommendations" in output:
        from bench import recommendations

        print()
        print(recommendations.section(output["recommendations"]))
    if "metrics" in output:
        from bench import metrics

        print()
        print(metrics.section(output["metrics"]))
    if "console" in output:
        from bench import console

        print()
        print(console.section(output["console"]))
    if "posters" in output:
        from bench import posters

        print()
        print(posters.section(output["posters"]))
    if "capacity" in output:
        from bench import capacity

        print()
        print(capacity.section(output["capacity"]))
    if "moderation" in output:
        from bench import moderation

        print()
        print(moderation.section(output["moderation"]))
    if "coldstart" in output:
        print()
        print(report.coldstart_section(output["coldstart"]))
    if "job_memory" in output:
        from bench import job_memory

        print()
        print(job_memory.section(output["job_memory"]))
    if "coldstart_package" in output:
        from bench import coldstart_package

        print()
        print(coldstart_package.section(output["coldstart_package"]))
    print()
    print(f"bench took {output['bench_seconds']:.0f} s; results in {RESULTS.relative_to(REPO_ROOT)}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(output, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
