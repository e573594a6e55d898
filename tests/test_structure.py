"""The shape of the code: no import circles, no private names across modules, wings one way.

Every import counts, including one inside a function: a lazy import still ties two modules
together. Modules are the project's own (``profiling``, ``ui``, ``app_pages``, ``app``).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("profiling", "ui", "app_pages")

# The wings of the library, lowest first. A module may import from its own wing and from any
# wing below it, never from one above. Wings on one line share a floor and may use each other
# (no module circle is allowed between them either: see the circle test).
WINGS: list[tuple[str, ...]] = [
    ("errors", "checks", "private", "spark_session"),  # ground: no project imports
    ("vocabulary", "jobs"),  # a job runs in its starter's language
    ("data",),
    ("profiles",),
    ("recommenders",),
    ("evaluation", "predict"),
    ("engines",),
    ("workspace",),
    ("present",),
    ("cli", "__main__", "__init__"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    mods = {"app": ROOT / "app.py"}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            mods[module_name(p)] = p
    return mods


MODULES = project_modules()


def resolve(name: str) -> str | None:
    """The project module a dotted name refers to (a module, or a name inside one)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path) -> list[tuple[str, str, int]]:
    """(module imported, name taken or "", line) for every import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                out.append((full if full in MODULES else node.module, a.name, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        for name, _, _ in imports_of(path):
            target = resolve(name)
            if target and target != mod:
                edges[mod].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_among_the_projects_modules():
    assert cycles(graph()) == []


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for mod, path in MODULES.items():
        for name, taken, line in imports_of(path):
            target = resolve(name)
            if target and target != mod and taken.startswith("_") and not taken.startswith("__"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} takes {taken} from {target}")
    assert offenders == []


def wing_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "profiling":
        return None
    key = parts[1] if len(parts) > 1 else "__init__"
    for floor, wings in enumerate(WINGS):
        if key in wings:
            return floor
    raise AssertionError(f"{module} belongs to no wing: add it to WINGS or move it into one")


def test_every_library_module_belongs_to_a_wing():
    for mod in MODULES:
        wing_of(mod)


def test_wings_import_one_way():
    offenders = []
    for mod, targets in graph().items():
        here = wing_of(mod)
        if here is None:
            continue
        for t in targets:
            there = wing_of(t)
            if there is not None and there > here:
                offenders.append(f"{mod} (floor {here}) imports {t} (floor {there})")
    assert sorted(offenders) == []


def test_the_library_never_imports_the_app():
    offenders = [
        f"{m} imports {t}"
        for m, ts in graph().items()
        if m.startswith("profiling")
        for t in ts
        if not t.startswith("profiling")
    ]
    assert offenders == []


def module_aliases(path: Path) -> dict[str, str]:
    """Names bound in ``path`` to one of the project's modules: alias -> module."""
    out = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name in MODULES:
                    out[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in MODULES:
                    out[a.asname or a.name] = full
    return out


def test_no_private_name_is_reached_through_another_module():
    """``store._add_batch(...)`` is the same reach into another module as importing it."""
    offenders = []
    for mod, path in MODULES.items():
        aliases = module_aliases(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != mod
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offenders.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}"
                )
    assert offenders == []


def test_no_prediction_module_is_over_500_lines():
    # predict.py was one file of 1,455 lines; it is a package of modules a reader can hold
    sizes = {
        p.name: len(p.read_text(encoding="utf-8").splitlines())
        for p in (ROOT / "profiling" / "predict").glob("*.py")
    }
    assert len(sizes) > 10
    assert {name: n for name, n in sizes.items() if n > 500} == {}
