"""What one slice of a job's part reports (docs/jobs.md): a plain value, here so that the
services whose functions are the jobs' workers can return it without importing the job engine
(``chalicelib/jobs/engine.py``, a layer above them, which uses it as its own)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Progress:
    """What one slice did: ``counts`` (summed over the run into its summary: integers add, a list
    extends, anything else is kept as the last value) and the ``cursor`` to resume the part from
    (None: the part is finished)."""

    counts: dict[str, Any] = field(default_factory=dict)
    cursor: str | None = None
