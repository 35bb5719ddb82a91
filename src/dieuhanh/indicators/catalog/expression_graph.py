"""The dependency graph of indicators: cycles and unknown codes among their N{...} references."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeAlias

from dieuhanh.indicators.catalog.expression_syntax import ItemKind


class Formula(Protocol):
    """What the graph needs of an :class:`~dieuhanh.indicators.catalog.expression.Expression`, named
    without importing it (that module imports this one)."""

    def codes(self, kind: ItemKind) -> tuple[str, ...]: ...


Definitions: TypeAlias = Mapping[str, "Formula | Sequence[Formula]"]


def _references(definitions: Definitions) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for code, expressions in definitions.items():
        # An Expression is not iterable; checking for that (not for the class) keeps this module
        # free of an import cycle, and is faster than isinstance() against a Protocol.
        many = expressions if isinstance(expressions, Iterable) else [expressions]
        graph[code] = list(dict.fromkeys(c for e in many for c in e.codes("indicator")))
    return graph


def unknown_references(definitions: Definitions) -> dict[str, list[str]]:
    """Indicator code -> the N{...} codes it uses that are not defined (only codes with some)."""
    graph = _references(definitions)
    unknown = {code: sorted(set(refs) - graph.keys()) for code, refs in graph.items()}
    return {code: refs for code, refs in sorted(unknown.items()) if refs}


def find_cycles(definitions: Definitions) -> list[list[str]]:
    """Cycles through N{...} references, as ``[["A", "B", "A"], ["C", "C"]]``.

    One shortest cycle per group of mutually dependent indicators (strongly connected component),
    starting at the group's smallest code: enough to name every problem; undefined codes are left
    to :func:`unknown_references`."""
    graph = {
        code: [r for r in refs if r in definitions]
        for code, refs in _references(definitions).items()
    }
    cycles = []
    for component in _components(graph):
        start = min(component)
        if len(component) > 1 or start in graph[start]:
            cycles.append(_shortest_cycle(graph, start, set(component)))
    return sorted(cycles)


def _components(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative so a long chain cannot overflow."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def _shortest_cycle(graph: Mapping[str, list[str]], start: str, within: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in graph[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt in within and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is in a cycle but none was found")  # pragma: no cover
