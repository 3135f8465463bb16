"""Simulator-only routes: absent (404) in any other mode."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.domain.errors import NotFound
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib import jobs
    from chalicelib.api import schemas as s
    from chalicelib.domain import clock
else:
    jobs, s, clock = lazy("chalicelib.jobs"), lazy("chalicelib.api.schemas"), lazy("chalicelib.domain.clock")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/dev/jobs/{job}", "POST", auth="simulator", tag="simulator", body="JobBody", response="JobAnswer",
          summary="Run a scheduled job as of a given time (simulator mode only)", errors=("NOT_FOUND",))
def run_dev_job(call: Call) -> s.JobAnswer:
    name = call.params["job"]
    if name not in jobs.JOBS:
        raise NotFound(f"no job named {name!r}", jobs=sorted(jobs.JOBS))
    now = call.body.now or call.deps.clock()
    summary = jobs.run_job(name, now, call.deps)
    return s.JobAnswer(job=name, now=clock.iso(now), **summary)
