"""The import graph of the dynamo_harness package, read with `ast` (function-local imports included),
and the layer order its rooms keep.

A room is the first name under dynamo_harness/: a subpackage (`clusters`) or a top-level module
(`kube`). LAYERS lists the rooms base first; a room may import its own layer or lower ones only.
tests/template/test_module_layers.py holds the package to it, and

    python tests/support/module_graph.py [ROOT]

prints the figures: modules, import edges, levels (the longest import chain, counting each import
cycle as one level), the cycles between rooms and the upward imports.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "dynamo_harness"

# Base first. Each entry is one layer: the rooms in it may import each other (without a cycle) and
# anything in a lower layer, never a higher one.
LAYERS: tuple[tuple[str, ...], ...] = (
    # base: no harness imports but each other
    ("paths", "formats", "processes", "results", "tiny_model", "manifests"),
    # tools: one external program or protocol each
    ("kube", "kube_api", "helm", "helm_release", "images"),
    # what the tools build: clusters (and their node images), chart sources, model deployments
    ("clusters", "chartgen", "publish", "lint", "deploy"),
    # the Dynamo data plane, embedded or in a cluster
    ("dataplane",),
    # the probes, and the HA checks of an overlay on kind
    ("conformance", "ha"),
    # entry points
    ("up", "cli", "bench"),
)


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line})"


def package_root(root: Path | None = None) -> Path:
    return (root or Path(__file__).resolve().parents[2]) / PACKAGE


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that `name` is or lies in."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterable[Edge]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import mod` imports pkg.mod; `from mod import name` imports mod
            names = [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] != PACKAGE:
                continue
            target = _resolve(name, known)
            if target and target != module:
                yield Edge(module, target, node.lineno)


def edges(package: Path) -> list[Edge]:
    known = modules(package)
    return sorted({edge for module, path in known.items() for edge in imports(module, path, known)},
                  key=lambda e: (e.source, e.target, e.line))


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(name: str) -> int | None:
    for index, rooms in enumerate(LAYERS):
        if name in rooms:
            return index
    return None


def upward(graph: list[Edge]) -> list[Edge]:
    """Imports from a room into a higher layer (rooms missing from LAYERS are not judged here)."""
    found = []
    for edge in graph:
        source, target = layer_of(room(edge.source)), layer_of(room(edge.target))
        if room(edge.source) and room(edge.target) and source is not None and target is not None and target > source:
            found.append(edge)
    return found


def unplaced(package: Path) -> list[str]:
    return sorted({room(m) for m in modules(package) if room(m) and layer_of(room(m)) is None})


def _components(nodes: Iterable[str], succ: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(succ.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
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
                    found.append(sorted(component))
    return found


def room_cycles(graph: list[Edge]) -> list[list[str]]:
    """Groups of rooms that import each other, directly or through others."""
    succ: dict[str, set[str]] = {}
    for edge in graph:
        source, target = room(edge.source), room(edge.target)
        if source and target and source != target:
            succ.setdefault(source, set()).add(target)
    nodes = sorted(set(succ) | {t for targets in succ.values() for t in targets})
    return sorted(c for c in _components(nodes, succ) if len(c) > 1)


def module_cycles(graph: list[Edge]) -> list[list[str]]:
    succ: dict[str, set[str]] = {}
    for edge in graph:
        succ.setdefault(edge.source, set()).add(edge.target)
    nodes = sorted(set(succ) | {t for targets in succ.values() for t in targets})
    return sorted(c for c in _components(nodes, succ) if len(c) > 1)


def levels(graph: list[Edge], names: Iterable[str]) -> tuple[int, list[str]]:
    """The longest import chain between modules, in modules (a cycle counts once), and one such chain."""
    succ: dict[str, set[str]] = {}
    for edge in graph:
        succ.setdefault(edge.source, set()).add(edge.target)
    nodes = sorted(set(names))
    components = _components(nodes, succ)  # Tarjan yields them dependencies first
    where = {member: i for i, component in enumerate(components) for member in component}
    depth: dict[int, int] = {}
    below: dict[int, int | None] = {}
    for i, component in enumerate(components):
        targets = {where[t] for m in component for t in succ.get(m, ()) if where[t] != i}
        best = max(targets, key=lambda t: depth[t], default=None)
        depth[i] = 1 + (depth[best] if best is not None else 0)
        below[i] = best
    top = max(depth, key=lambda i: depth[i])
    chain, at = [], top
    while at is not None:
        chain.append("/".join(components[at]))
        at = below[at]
    return depth[top], chain


def report(root: Path | None = None) -> str:
    package = package_root(root)
    graph = edges(package)
    names = modules(package)
    depth, chain = levels(graph, names)
    lines = [f"modules: {len(names)}", f"import edges: {len(graph)}", f"levels (longest import chain): {depth}",
             "  " + " -> ".join(chain)]
    rooms = [Edge(room(e.source), room(e.target), e.line) for e in graph
             if room(e.source) and room(e.target) and room(e.source) != room(e.target)]
    room_depth, room_chain = levels(rooms, {room(m) for m in names if room(m)})
    lines += [f"room levels (longest chain between rooms, a cycle counted once): {room_depth}",
              "  " + " -> ".join(room_chain)]
    cycles = room_cycles(graph)
    lines.append(f"cycles between rooms: {len(cycles)}")
    lines += [f"  {' <-> '.join(c)}" for c in cycles]
    mcycles = module_cycles(graph)
    lines.append(f"cycles between modules: {len(mcycles)}")
    lines += [f"  {' <-> '.join(c)}" for c in mcycles]
    up = upward(graph)
    lines.append(f"upward imports: {len(up)}")
    lines += [f"  {edge}" for edge in up]
    missing = unplaced(package)
    lines.append(f"rooms not in LAYERS: {len(missing)}" + (f" ({', '.join(missing)})" if missing else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
