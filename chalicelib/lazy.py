"""Lazy modules: imported on first attribute access, so that importing ``app`` stays cheap
(every Lambda function of a Chalice app imports it at cold start; DESIGN.md "Cold start").

An API module names what its handlers use at module level, typed as the real modules for mypy::

    if TYPE_CHECKING:
        from chalicelib.services import orders
    else:
        orders = lazy("chalicelib.services.orders")

Safe under concurrent first use (``chalice local`` serves requests on threads): the first access
runs a plain ``importlib.import_module`` under one process-wide lock, so no thread ever sees a
half-initialised module, and the proxy hands out attributes only of a module whose import has
finished. (importlib's ``LazyLoader``, used before, put a module object in ``sys.modules`` before
executing it, and two threads creating one for the same name replaced each other's: a 500.)
"""
from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

# One lock for every lazy import: two threads importing modules that import each other through
# plain module locks can be handed a half-initialised module by importlib's deadlock avoidance.
_IMPORT_LOCK = threading.RLock()


def load(name: str) -> ModuleType:
    """Import ``name`` (once per process; later calls return it at once) under the lazy import lock."""
    with _IMPORT_LOCK:
        return importlib.import_module(name)


class LazyModule:
    """Stands for a module until an attribute is first read; then imports it and delegates."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = load(self._name)
            self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first use (typed ``Any``: declare the
    real module under ``TYPE_CHECKING`` for mypy)."""
    return LazyModule(name)
