"""What a job's worker returns to the engine, in the services layer (the engine, ``chalicelib/jobs/
engine.py``, sits above the services: a service cannot import it). The engine reads a slice's
``counts`` and ``cursor`` and asks its ``Deadline`` only ``expired()``; these are the same shapes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Deadline(Protocol):
    def expired(self) -> bool: ...


@dataclass(frozen=True)
class Progress:
    """One slice's counts (summed over the run) and the cursor its part resumes from (None: done)."""

    counts: dict[str, Any] = field(default_factory=dict)
    cursor: str | None = None
