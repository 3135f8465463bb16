"""Cold start: what importing the app costs a fresh interpreter, and what the lazy imports defer.

Every Lambda function of a Chalice app imports ``app.py`` before its first event. Each figure is
the median of fresh subprocesses (cwd = repo root, a prod-like environment: simulator mode, a
JWT secret, fake credentials, no test switches) after one untimed warm-up run that fills the
bytecode caches. Wall times include starting the interpreter; ``app − bare`` is what the app adds.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench.env import REPO_ROOT, subprocess_env

RUNS = 7
TARGET_MS = 100.0  # app import over a bare interpreter (DESIGN.md "Cold start")
IMPORTTIME_RUNS = 3
TOP_IMPORTS = 10
OWN_PACKAGES = frozenset({"app", "chalicelib"})

# Costs paid after the import, by the first request that needs them (each in a fresh process that
# has imported the app). Each snippet prints "BENCH " and a JSON object of milliseconds (the app's
# own logs and metrics may share stdout).
_CLOCK = "import time, json; t = time.perf_counter; ms = lambda a, b: round((b - a) * 1000, 2)\n"
STAGES: dict[str, tuple[str, dict[str, str]]] = {
    "store": (_CLOCK + """import app
a = t(); import chalicelib.store.users as users
b = t(); users.UserItem._get_connection().connection.client
c = t(); import chalicelib.store.products as products; products.ProductItem._get_connection().connection.client
d = t()
print("BENCH " + json.dumps({"import chalicelib.store.users": ms(a, b), "first botocore client (UserItem)": ms(b, c),
                  "second botocore client (ProductItem)": ms(c, d)}))
""", {}),
    "first_request": (_CLOCK + """import app
from chalice.test import Client
http = Client(app.app, stage_name="test").http  # the test gateway itself stays out of the figures
def bad_login():  # refused by validation (422): touches no DynamoDB
    return http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body=b"{}").status_code
a = t(); first = bad_login(); b = t(); second = bad_login(); c = t()
assert first == second == 422, (first, second)
print("BENCH " + json.dumps({"first request, no DynamoDB (422 on validation)": ms(a, b),
                             "second request, same": ms(b, c)}))
""", {}),
    "pieces": (_CLOCK + """import app
a = t(); import pydantic; from pydantic import BaseModel; b = t()
from chalicelib.observability import logger, metrics
c = t(); logger(); metrics(); d = t()
print("BENCH " + json.dumps({"import pydantic": ms(a, b), "Powertools Logger() + Metrics()": ms(c, d)}))
""", {}),
    "eager": (_CLOCK + """import app
import importlib, pkgutil, chalicelib
names = sorted(m.name for m in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.") if not m.name.endswith("__main__"))
a = t()
for name in names:
    importlib.import_module(name)
b = t()
print("BENCH " + json.dumps({f"every chalicelib module ({len(names)}) imported after app: what lazy imports save": ms(a, b)}))
""", {}),
    "tracer": (_CLOCK + """import app
import sys
from chalicelib.observability import traced
a = t()
with traced("## bench"):
    pass
b = t()
assert "opentelemetry" not in sys.modules
print("BENCH " + json.dumps({"traced() with tracing off (no ADOT wrapper; OpenTelemetry never imported)": ms(a, b)}))
""", {}),
}


def _run(args: list[str], env: dict[str, str], capture: bool = False) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, text=True, check=False,  # noqa: S603 -- this interpreter and our own arguments, no shell
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done


def wall_times(runs: int = RUNS) -> dict[str, Any]:
    """Median wall of ``python -c pass`` and ``python -c "import app"``, interleaved."""
    env = subprocess_env()
    commands = {"bare": ["-c", "pass"], "import_app": ["-c", "import app"]}
    for args in commands.values():
        _run(args, env)  # warm-up: bytecode caches
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, args in commands.items():
            samples[name].append(_run(args, env)[0])
    bare = statistics.median(samples["bare"])
    app = statistics.median(samples["import_app"])
    return {"runs": runs, "bare_ms": bare, "import_app_ms": app, "app_minus_bare_ms": app - bare,
            "target_ms": TARGET_MS, "within_target": app - bare <= TARGET_MS, "samples_ms": samples}


def stage_times(runs: int = RUNS) -> dict[str, dict[str, float]]:
    """Median of what each lazily deferred piece costs when it is first used."""
    collected: dict[str, list[float]] = defaultdict(list)
    for code, extra in STAGES.values():
        _run(["-c", code], subprocess_env(**extra), capture=True)  # warm-up
    for _ in range(runs):
        for code, extra in STAGES.values():
            _, done = _run(["-c", code], subprocess_env(**extra), capture=True)
            line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH "))
            for name, value in json.loads(line[len("BENCH "):]).items():
                collected[name].append(float(value))
    return {name: {"median_ms": statistics.median(values), "runs": len(values)} for name, values in collected.items()}


def _parse_importtime(stderr: str) -> list[tuple[str, float, float]]:
    """(module, self µs, cumulative µs) for each line of ``-X importtime``."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|", 2))
        rows.append((name, float(self_us), float(cumulative_us)))
    return rows


def top_imports(runs: int = IMPORTTIME_RUNS, top: int = TOP_IMPORTS) -> dict[str, Any]:
    """The top-level packages ``import app`` spends most in (``-X importtime``, self time summed over
    each package's modules, so nothing is counted twice; modules a bare interpreter already loads
    at start-up are left out). Median over ``runs``."""
    env = subprocess_env()
    _, bare = _run(["-X", "importtime", "-c", "pass"], env)
    at_startup = {name for name, _, _ in _parse_importtime(bare.stderr)}
    per_package: dict[str, list[float]] = defaultdict(list)
    own: dict[str, list[float]] = defaultdict(list)  # our modules (app, chalicelib.*), one by one
    modules: dict[str, set[str]] = defaultdict(set)
    totals = []
    for _ in range(runs):
        _, done = _run(["-X", "importtime", "-c", "import app"], env)
        sums: dict[str, float] = defaultdict(float)
        for name, self_us, cumulative_us in _parse_importtime(done.stderr):
            if name == "app":
                totals.append(cumulative_us / 1000)
            if name in at_startup:
                continue
            package = name.split(".")[0]
            if package in OWN_PACKAGES:
                own[name].append(self_us / 1000)
            sums[package] += self_us / 1000
            modules[package].add(name)
        for package, value in sums.items():
            per_package[package].append(value)
    ranked = sorted(((statistics.median(v), p) for p, v in per_package.items()), reverse=True)
    return {
        "runs": runs,
        "import_app_cumulative_ms": statistics.median(totals) if totals else None,
        "top": [{"package": p, "self_ms": ms, "modules": len(modules[p])} for ms, p in ranked[:top]],
        "top_own_modules": [{"module": m, "self_ms": ms} for ms, m in
                            sorted(((statistics.median(v), m) for m, v in own.items()), reverse=True)[:5]],
    }


def run_all(runs: int = RUNS) -> dict[str, Any]:
    return {"wall": wall_times(runs), "deferred": stage_times(runs), "importtime": top_imports()}
