"""Simulator-only routes: absent (404) in any other mode."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.http import schemas as s
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import NotFound
from chalicelib.jobs import JOBS, run_job

bp = Blueprint(__name__)


@endpoint(bp, "/v1/dev/jobs/{job}", "POST", auth="simulator", tag="simulator", body="JobBody", response="JobAnswer",
          summary="Run a scheduled job as of a given time (simulator mode only)", errors=("NOT_FOUND",))
def run_dev_job(call: Call) -> Any:
    name = call.params["job"]
    if name not in JOBS:
        raise NotFound(f"no job named {name!r}", jobs=sorted(JOBS))
    now = call.body.now or call.deps.clock()
    summary = run_job(name, now, call.deps)
    return s.JobAnswer(job=name, now=iso(now), **summary)
