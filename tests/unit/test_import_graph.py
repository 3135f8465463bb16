"""The module graph of chalicelib has no cycle, counting the imports inside functions too (grimp
reads every import statement; ``make lint`` checks the layers with import-linter on the same graph).
Imports under ``if TYPE_CHECKING:`` never run and are left out, as in pyproject.toml's contracts."""
from __future__ import annotations

import grimp
import pytest


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's components of more than one module: each one is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = {stack.pop()}
            while module not in component:
                component.add(stack.pop())
            if len(component) > 1:
                cycles.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("chalicelib", exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_of_chalicelib_takes_part_in_an_import_cycle(graph):
    assert strongly_connected(graph) == []


def test_an_import_inside_a_function_is_in_the_graph(graph):
    # entrypoints imports jobs only inside run_scheduled
    assert graph.direct_import_exists(importer="chalicelib.entrypoints", imported="chalicelib.jobs")


def test_one_import_back_from_the_domain_makes_a_cycle_the_check_reports(graph):
    back = {"importer": "chalicelib.domain.clock", "imported": "chalicelib.services.orders"}
    graph.add_import(**back)
    try:
        cycles = strongly_connected(graph)
    finally:
        graph.remove_import(**back)
    assert any({"chalicelib.domain.clock", "chalicelib.services.orders"} <= cycle for cycle in cycles)
