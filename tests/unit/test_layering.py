"""The import graph of chalicelib, read by grimp: no module imports itself
through others, whether at the top of a module, inside a function or only
for type checking."""

from __future__ import annotations

import grimp
import pytest


def import_cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's
    algorithm, iterative): each is a set of modules that import each other
    in a cycle."""
    modules = sorted(graph.modules)
    imported = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[set[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(imported[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(imported[child])))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(component)
    return cycles


def test_finds_a_cycle_where_there_is_one():
    graph = grimp.ImportGraph()
    for module in ("shop", "shop.a", "shop.b", "shop.c"):
        graph.add_module(module)
    graph.add_import(importer="shop.a", imported="shop.b")
    graph.add_import(importer="shop.b", imported="shop.a")
    graph.add_import(importer="shop.c", imported="shop.a")
    assert import_cycles(graph) == [{"shop.a", "shop.b"}]


@pytest.mark.parametrize("exclude_type_checking_imports", [False, True])
def test_chalicelib_has_no_import_cycle(exclude_type_checking_imports):
    graph = grimp.build_graph(
        "chalicelib",
        exclude_type_checking_imports=exclude_type_checking_imports,
        cache_dir=None,  # no .grimp_cache in the worktree
    )
    assert import_cycles(graph) == []
