"""Retrying a read-decide-commit use case that lost a race."""
from __future__ import annotations

import random
import time


def backoff(attempt: int) -> None:
    """Sleep a jittered, growing moment before attempt ``attempt + 1``."""
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
