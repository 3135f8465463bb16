"""The local stack: DynamoDB Local, tables, demo data and ``chalice local``.

``make dev`` runs this file after installing everything. It:

1. gives the children local defaults where they are missing: ``AWS_ACCESS_KEY_ID=local``,
   ``AWS_SECRET_ACCESS_KEY=local``, ``AWS_DEFAULT_REGION=cn-north-1``,
   ``FENXIAO_MODE=simulator``;
2. uses the database at ``$AWS_ENDPOINT_URL_DYNAMODB`` when that is set; otherwise starts
   DynamoDB Local (``scripts/dynamodb_local.py``; the moto fallback without Java) on
   ``$DYNAMODB_PORT`` or a free port, keeping its data in ``.local/dynamodb`` so a restart
   keeps it, and gives the children ``AWS_ENDPOINT_URL_DYNAMODB``;
2b. uses the S3 at ``$AWS_ENDPOINT_URL_S3`` when that is set; otherwise starts the S3 stand-in
   (``scripts/s3_local.py``: moto's S3 checking presigned POST policies, the media bucket
   created) on ``$S3_PORT`` or 9000, keeping the uploaded images in ``.local/s3``, and gives the
   children ``AWS_ENDPOINT_URL_S3`` (docs/uploads.md);
3. runs ``python -m chalicelib.store.tables`` (creates the missing tables and waits),
   ``python -m chalicelib.jobs.demo`` (seeds the demo catalogue and an admin, idempotent) and,
   for ``make dev`` only, ``python -m chalicelib.jobs.demo_mall`` (a month of a demo mall, once);
4. starts the API as ``chalice local --no-autoreload --host 127.0.0.1 --port ${PORT:-8000}
   --stage dev`` would (``scripts/chalice_local.py``: the same server with a listen backlog of
   512 instead of 5, so that a burst of 64+ connections is not dropped or reset) in its own
   process group (chalice's auto-reloader orphans a child that keeps the port), waits until
   ``GET /v1/openapi.json`` answers 200, prints the URL and a curl line, and waits.

Ctrl-C, SIGTERM or SIGHUP stops everything it started, whole process groups, and exits 0.

The e2e tests use the same pieces through :func:`run_stack`::

    with run_stack(free_port(), tmp_path / "db", 120, log_path=tmp_path / "stack.log") as url:
        urllib.request.urlopen(url + "/v1/openapi.json")
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

if __package__ in (None, ""):  # run as `python scripts/dev.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local, s3_local
from scripts.dynamodb_local import LocalDynamo
from scripts.procs import (
    SIGNALS,
    StartupError,
    free_port,
    log_tail,
    port_in_use,
    signals_deferred,
    stop_process_group,
    wait_http_ok,
)

REPO_ROOT = dynamodb_local.REPO_ROOT
DEFAULT_DB_PATH = REPO_ROOT / ".local" / "dynamodb"
DEFAULT_S3_PATH = REPO_ROOT / ".local" / "s3"
# A fixed port, so that the image URLs the products keep (in .local/) still answer after a restart.
DEFAULT_S3_PORT = 9000
DEFAULT_API_PORT = 8000
DEFAULT_STAGE = "dev"
READY_PATH = "/v1/openapi.json"
DEFAULT_READY_TIMEOUT = 60.0
SETUP_TIMEOUT = 300.0
# The demo mall walks 30 days through the use cases (~300 orders and every nightly job): about
# 2 minutes on an idle 2-core machine, 5 and more on a busy one. It runs once (later starts find
# it done), so its first start may take its time rather than fail a newcomer's `make dev`.
DEMO_MALL_TIMEOUT = 1800.0

SETUP_MODULES: tuple[str, ...] = ("chalicelib.store.tables", "chalicelib.jobs.demo")
"""Run in order as ``python -m <module>`` before the API starts; each must exit 0."""
DEMO_MALL = "chalicelib.jobs.demo_mall"
"""``make dev`` only, after :data:`SETUP_MODULES`: a month of a living mall, seeded once (a
minute or two on the first start; the e2e stacks leave it out)."""

ENV_DEFAULTS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "cn-north-1",
    "FENXIAO_MODE": "simulator",
}
"""Given to the children only where missing from the environment."""


class StackError(StartupError):
    """A part of the local stack failed to start."""


def stack_env(
    dynamodb_endpoint: str,
    base: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The children's environment: ``base`` (default ``os.environ``), :data:`ENV_DEFAULTS`
    where missing, ``AWS_ENDPOINT_URL_DYNAMODB=dynamodb_endpoint``, then ``overrides``."""
    env = dict(os.environ if base is None else base)
    for key, value in ENV_DEFAULTS.items():
        env.setdefault(key, value)
    env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
    env.pop("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", None)  # it would make botocore ignore it
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(overrides or {})
    return env


def run_setup(
    env: Mapping[str, str],
    *,
    project_dir: Path = REPO_ROOT,
    modules: Sequence[str] = SETUP_MODULES,
    log: IO[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Run ``python -m <module>`` for each module in order; StackError if one fails."""
    for module in modules:
        try:
            result = subprocess.run(  # noqa: S603 -- this interpreter and our own modules, no shell
                [sys.executable, "-m", module],
                cwd=project_dir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log is not None else None,
                timeout=DEMO_MALL_TIMEOUT if module == DEMO_MALL else SETUP_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"`python -m {module}` timed out\n{log_tail(log_path)}") from exc
        if result.returncode != 0:
            raise StackError(
                f"`python -m {module}` failed with exit code {result.returncode}\n"
                + log_tail(log_path)
            )


LOCAL_SERVER = Path(__file__).resolve().parent / "chalice_local.py"
"""``chalice local --no-autoreload`` with a listen backlog for bursts (see that module)."""


def chalice_command(port: int, stage: str = DEFAULT_STAGE) -> list[str]:
    """The API server: :data:`LOCAL_SERVER` under the running interpreter (the venv's chalice).

    Plain ``chalice local`` listens with a backlog of 5, so a burst of clients (a load test of
    64 connections at once) gets connections dropped or reset that production would take."""
    return [sys.executable, str(LOCAL_SERVER), "--host", "127.0.0.1", "--port", str(port), "--stage", stage]


def start_api(
    port: int,
    env: Mapping[str, str],
    *,
    project_dir: Path = REPO_ROOT,
    stage: str = DEFAULT_STAGE,
    log: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the API (:func:`chalice_command`) leading its own process group (stop: stop_process_group)."""
    return subprocess.Popen(  # noqa: S603 -- our own fixed command line, no shell
        chalice_command(port, stage),
        cwd=project_dir,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
    )


@dataclass
class Stack:
    """A running local stack, as yielded by :func:`open_stack`."""

    url: str  # the API's base URL, http://127.0.0.1:<port>, no trailing slash
    port: int
    dynamodb_endpoint: str
    dynamodb: LocalDynamo | None  # None when an existing endpoint was used
    api: subprocess.Popen[bytes]
    env: dict[str, str]
    s3_endpoint: str = ""
    s3: subprocess.Popen[bytes] | None = None  # the S3 stand-in; None when an existing endpoint was used


@contextlib.contextmanager
def open_stack(
    port: int | None = None,
    db_path: str | os.PathLike[str] | None = None,
    ready_timeout: float = DEFAULT_READY_TIMEOUT,
    *,
    dynamodb_endpoint: str | None = None,
    dynamodb_port: int | None = None,
    s3_endpoint: str | None = None,
    s3_port: int | None = None,
    s3_path: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] = REPO_ROOT,
    log_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stage: str = DEFAULT_STAGE,
    setup_modules: Sequence[str] = SETUP_MODULES,
    ready_path: str = READY_PATH,
    on_dynamodb_ready: Callable[[str, LocalDynamo | None], None] | None = None,
) -> Iterator[Stack]:
    """Start the database (unless ``dynamodb_endpoint``), the setup modules and the API.

    Args:
        port: API port; None picks a free one. Fails at once when the port is taken.
        db_path: DynamoDB Local's data directory (kept across runs); None: in memory.
        ready_timeout: seconds the database, and then the API, each may take to be ready.
        dynamodb_endpoint: use this database instead of starting one.
        dynamodb_port: port for the database this starts; None picks a free one.
        s3_endpoint: use this S3 instead of starting the stand-in.
        s3_port: port for the S3 stand-in this starts; None picks a free one.
        s3_path: where the S3 stand-in keeps uploaded objects across runs; None: in memory.
        project_dir: the Chalice project (``app.py``, ``.chalice/``).
        log_path: append setup and API output to this file; None: leave it on the terminal.
        env: variables for the children, applied last (they override everything).
        stage: Chalice stage of ``chalice local``.
        setup_modules: run as ``python -m`` before the API starts.
        ready_path: the API is ready when ``GET <url><ready_path>`` answers 200.
        on_dynamodb_ready: called as ``f(endpoint, db)`` once the database answers.

    Everything started is stopped on exit (API first, then the database), with SIGINT,
    SIGTERM and SIGHUP ignored meanwhile so that a second Ctrl-C cannot leave half of it.
    """
    project = Path(project_dir).resolve()
    api_port = free_port() if port is None else port
    if port_in_use(api_port):
        raise StackError(f"port {api_port} is in use (another `make dev`?): stop it or set PORT")
    log_file = Path(log_path).resolve() if log_path is not None else None
    cleanup = contextlib.ExitStack()  # closes last-in first-out: API, database, log
    try:
        log = _open_log(cleanup, log_file)
        db = None
        if dynamodb_endpoint is None:
            db = dynamodb_local.start(dynamodb_port, db_path, ready_timeout=ready_timeout)
            cleanup.callback(db.stop)
        endpoint = db.endpoint if db is not None else str(dynamodb_endpoint)
        if on_dynamodb_ready is not None:
            on_dynamodb_ready(endpoint, db)
        child_env = stack_env(endpoint, overrides=env)
        s3 = None
        if s3_endpoint is None:
            chosen = free_port() if s3_port is None else s3_port
            if port_in_use(chosen):
                raise StackError(f"port {chosen} is in use (another `make dev`?): stop it or set S3_PORT")
            s3 = s3_local.start(chosen, child_env, data=Path(s3_path) if s3_path is not None else None, log=log,
                                log_path=log_file, ready_timeout=ready_timeout)
            cleanup.callback(stop_process_group, s3)
            s3_endpoint = f"http://127.0.0.1:{chosen}"
        child_env["AWS_ENDPOINT_URL_S3"] = s3_endpoint
        run_setup(child_env, project_dir=project, modules=setup_modules, log=log, log_path=log_file)
        api = start_api(api_port, child_env, project_dir=project, stage=stage, log=log)
        cleanup.callback(stop_process_group, api)
        url = f"http://127.0.0.1:{api_port}"
        wait_http_ok(url + ready_path, ready_timeout, process=api, log_path=log_file)
        yield Stack(url, api_port, endpoint, db, api, child_env, s3_endpoint, s3)
    finally:
        with signals_deferred():
            cleanup.close()


def _open_log(cleanup: contextlib.ExitStack, log_file: Path | None) -> IO[bytes] | None:
    if log_file is None:
        return None
    log_file.parent.mkdir(parents=True, exist_ok=True)
    return cleanup.enter_context(log_file.open("ab", buffering=0))


@contextlib.contextmanager
def run_stack(
    port: int | None = None,
    db_path: str | os.PathLike[str] | None = None,
    ready_timeout: float = DEFAULT_READY_TIMEOUT,
    **options: Any,
) -> Iterator[str]:
    """Start the whole stack; yield the API's base URL (``http://127.0.0.1:<port>``).

    Always starts its own database (in memory when ``db_path`` is None) unless
    ``dynamodb_endpoint=`` is passed; other keyword ``options`` go to :func:`open_stack`
    (``log_path=``, ``env=``, ...). Stops everything when the block ends.
    """
    with open_stack(port, db_path, ready_timeout, **options) as stack:
        yield stack.url


# --------------------------------------------------------------------------------------------
# `make dev`
# --------------------------------------------------------------------------------------------


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    for sig in SIGNALS:  # one request is enough: ignore repeats while shutting down
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _announce_db(endpoint: str, db: LocalDynamo | None) -> None:
    if db is None:
        print(f"dev: using the database at AWS_ENDPOINT_URL_DYNAMODB={endpoint}")
    else:
        where = f"data in {_relative(db.db_path)}" if db.db_path else "in memory"
        print(f"dev: {db.backend} at {endpoint} ({where})")
    print("dev: creating tables and seeding the demo data (the first start walks a month of a demo mall: "
          "2 to 5 minutes)...", flush=True)


def _relative(path: Path | None) -> str:
    with contextlib.suppress(ValueError, TypeError):
        return str(Path(str(path)).relative_to(REPO_ROOT))
    return str(path)


def _print_banner(stack: Stack) -> None:
    port = stack.port
    login = '{"code":"dev:alice"}'
    print(
        f"\n  fenxiao API ({stack.env.get('FENXIAO_MODE')} mode): http://localhost:{port}\n"
        f"  OpenAPI:  http://localhost:{port}{READY_PATH}\n"
        f"  DynamoDB: {stack.dynamodb_endpoint}\n"
        f"  S3:       {stack.s3_endpoint} (images: docs/uploads.md)\n\n"
        f"  Console:  http://localhost:{port}/console/ (simulator mode: sign in as dev:admin)\n"
        f"  Board:    http://localhost:{port}/v1/admin/dashboard\n\n"
        "  Try:\n"
        f"    curl -s -X POST localhost:{port}/v1/auth/login "
        f"-H 'Content-Type: application/json' -d '{login}'\n\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )


def _serve_until_stopped(stack: Stack) -> int:
    while stack.api.poll() is None:
        if stack.dynamodb is not None and not stack.dynamodb.is_running():
            print(f"dev: the database died\n{log_tail(stack.dynamodb.log_path)}", file=sys.stderr)
            return 1
        if stack.s3 is not None and stack.s3.poll() is not None:
            print(f"dev: the S3 stand-in exited with code {stack.s3.returncode}", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(f"dev: chalice local exited with code {stack.api.returncode}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local stack until Ctrl-C.")
    default_port = int(os.environ.get("PORT") or DEFAULT_API_PORT)
    parser.add_argument("--port", type=int, default=default_port, help="API port ($PORT, 8000)")
    parser.add_argument("--db-path", default=str(DEFAULT_DB_PATH), help="DynamoDB Local data")
    parser.add_argument("--in-memory", action="store_true", help="keep no data on disk")
    args = parser.parse_args(argv)
    for sig in SIGNALS:
        signal.signal(sig, _stop_on_signal)
    db_port = os.environ.get("DYNAMODB_PORT")
    s3_port = os.environ.get("S3_PORT")
    try:
        with open_stack(
            args.port,
            None if args.in_memory else args.db_path,
            dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            dynamodb_port=int(db_port) if db_port else None,
            s3_endpoint=os.environ.get("AWS_ENDPOINT_URL_S3") or None,
            s3_port=int(s3_port) if s3_port else DEFAULT_S3_PORT,
            s3_path=None if args.in_memory else DEFAULT_S3_PATH,
            on_dynamodb_ready=_announce_db,
            setup_modules=(*SETUP_MODULES, DEMO_MALL),
        ) as stack:
            _print_banner(stack)
            return _serve_until_stopped(stack)
    except KeyboardInterrupt:
        print("\ndev: stopped.", flush=True)
        return 0
    except StartupError as exc:
        print(f"dev: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
