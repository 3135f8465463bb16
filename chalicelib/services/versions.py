"""The per-process cache of something the operator keeps as numbered, immutable versions with a
``current`` item naming the one in force: the lexicon (services/moderation.py) and the runtime
rules (services/settings.py).

The number in force is re-read (one small GetItem, by the caller's ``read_current``) at most
every ``refresh_seconds``, so a saved version is in force in every process within that time
without a deploy; a version's value is built once per process and kept by number, since a
version never changes. ``keep`` bounds how many versions a process holds (the lexicon keeps its
one compiled matcher; the rules keep the few versions that orders still in flight were placed
under).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class VersionCache[T]:
    def __init__(self, keep: int = 1) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._current: int | None = None
        self._checked = 0.0
        self._values: OrderedDict[int, T] = OrderedDict()

    def current(self, refresh_seconds: float, read_current: Callable[[], int]) -> int:
        """The number in force, read again once the last read is ``refresh_seconds`` old."""
        now = time.monotonic()
        number = self._current
        if number is not None and now - self._checked < refresh_seconds:
            return number
        with self._lock:
            if self._current is None or now - self._checked >= refresh_seconds:
                self._current, self._checked = read_current(), now
            return self._current

    def value(self, number: int, load: Callable[[int], T]) -> T:
        """Version ``number``'s value, built by ``load`` the first time only."""
        with self._lock:
            if number in self._values:
                self._values.move_to_end(number)
                return self._values[number]
            value = load(number)
            self._values[number] = value
            while len(self._values) > self._keep:
                self._values.popitem(last=False)
            return value

    def invalidate(self) -> None:
        """Read the number in force again on next use (this process just saved a version)."""
        self._current = None
