"""The package's folders are the layers of the data flow: a lower layer never imports a higher
one (not even inside a function), and no module imports itself back through others.

The order (docs/api.md, "The layers"): base modules < preserve < events < objects < detector
< analysis; likelihood stands beside the event chain on the base alone; report draws from
documents; pipeline is the one place that knows every stage; train, the command line and the
demo sit on top.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "recast"

#: base modules: utilities every layer may use, which import no layer
BASE = {
    "errors",
    "arguments",
    "io",
    "paths",
    "schema",
    "parallel",
    "progress",
    "text",
    "version",
    "xsec",  # published cross-section tables: data and their interpolation
    "exactsum",
    "angles",
    "toy",
    "capture",
}
#: what each layer may import besides itself and the base
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "preserve": set(),
    "likelihood": set(),
    "events": {"preserve"},
    "objects": {"preserve", "events"},
    "detector": {"preserve", "events", "objects"},
    "analysis": {"preserve", "events", "objects", "detector"},
    "report": {"preserve", "analysis", "likelihood"},
    "model": {"events"},  # points from a model: SLHA templates, grids, processes, decays
    "pipeline": {
        "preserve", "events", "objects", "detector", "analysis", "likelihood", "report", "model",
    },
    "train": {"preserve", "events", "objects", "detector", "report"},
    "commands": {
        "preserve", "events", "objects", "detector", "analysis", "likelihood", "report",
        "pipeline", "train", "demo", "model",
    },
    "cli": {"commands"},
    "demo": {"preserve", "analysis", "report", "pipeline", "events"},
    "api": {"analysis", "events", "pipeline", "preserve"},
}  # fmt: skip


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"  # recast/__init__.py: the curated API
    return "base" if parts[1] in BASE else parts[1]


def _imports() -> dict[str, set[str]]:
    """Every recast module and the recast modules it imports, anywhere in its body."""
    found: dict[str, set[str]] = defaultdict(set)
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("recast"):
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found[module].add(full if full in modules else target)
            elif isinstance(node, ast.Import):
                found[module].update(a.name for a in node.names if a.name.startswith("recast"))
    return {m: {t for t in targets if t in modules} for m, targets in found.items()}


def test_every_layer_is_known() -> None:
    layers = {_layer(_module(p)) for p in PACKAGE.rglob("*.py")}
    assert layers <= set(ALLOWED), f"a folder nobody placed in the layers: {layers - set(ALLOWED)}"


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for module, targets in sorted(_imports().items()):
        layer = _layer(module)
        for target in sorted(targets):
            other = _layer(target)
            if other not in (layer, "base") and other not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {target} ({other})")
    assert not wrong, "\n".join(wrong)


def test_the_likelihood_knows_no_event_code() -> None:
    imports = _imports()
    for module, targets in imports.items():
        if _layer(module) == "likelihood":
            assert all(_layer(t) in ("likelihood", "base") for t in targets), (module, targets)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    graph = {m: {t for t in ts if t != m} for m, ts in _imports().items()}
    # a package's __init__ re-exporting its own modules is not a cycle of the code
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    assert _cycles(graph) == []


def test_no_import_cycle_between_layers() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        for target in targets:
            if _layer(module) != _layer(target):
                graph[_layer(module)].add(_layer(target))
    assert _cycles(graph) == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_the_layer_order_itself_has_no_cycle(layer: str) -> None:
    seen, todo = set(), [layer]
    while todo:
        for nxt in ALLOWED[todo.pop()] - seen:
            assert nxt != layer, f"{layer} may import itself back through {nxt}"
            seen.add(nxt)
            todo.append(nxt)
