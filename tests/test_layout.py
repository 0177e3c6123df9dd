"""The package's shape: layers that import only downward, no import cycle, no hidden imports, no library jit.

Floors, lowest first: ``version``; ``core`` (pure math); ``optim``; ``engine``; ``tools``; ``report`` (what the
studies share to present results); ``studies``; ``paper``, ``cli`` and ``api``; the package root, which turns on
float64 and re-exports the API.
A module imports only from its own floor or below, never through a function-local import, and the import
graph (function-local imports included) has no cycle.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jaxnewton"
FLOORS = {"version": 0, "core": 1, "optim": 2, "engine": 3, "tools": 4, "report": 5, "studies": 6,
          "paper": 7, "cli": 7, "api": 7, "jaxnewton": 8, "__main__": 8}
LIBRARY = ("core", "optim", "tools")  # pure functions: they never jit; callers (the engine, a study) do


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS[parts[1]] if len(parts) > 1 else FLOORS["jaxnewton"]


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported jaxnewton module, whether the import sits inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from jaxnewton.studies import seeds`` imports the submodule seeds.
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                       for a in node.names]
        else:
            continue
        found += [(t, id(node) in nested) for t in targets if t == "jaxnewton" or t.startswith("jaxnewton.")]
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    known = modules(package)
    return {m: {t for t, _ in imports(p, known)} - {m} for m, p in known.items()}


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(m, t) for m, targets in edges.items() for t in targets if floor(t) > floor(m)]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    state, found = {}, []

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return found


def hidden(package: Path = PACKAGE) -> list[tuple[str, str]]:
    known = modules(package)
    return [(m, t) for m, p in known.items() for t, inside in imports(p, known) if inside]


def test_every_module_sits_on_a_known_floor():
    for module in modules():
        floor(module)  # a KeyError names a folder with no floor


def test_imports_run_only_down_the_floors():
    assert not upward(graph()), f"imports that run up a floor: {upward(graph())}"


def test_the_import_graph_has_no_cycle():
    assert not cycles(graph()), f"import cycles: {cycles(graph())}"


def test_no_function_local_import_of_the_package():
    assert not hidden(), f"function-local imports of jaxnewton modules (hoist them): {hidden()}"


def test_library_layers_never_jit():
    jitted = [str(p.relative_to(PACKAGE.parent)) for m, p in modules().items()
              if m.split(".")[1:2] and m.split(".")[1] in LIBRARY and "jax.jit" in p.read_text()]
    assert not jitted, f"library modules that jit themselves (jit at the top instead): {jitted}"


def test_the_checks_above_catch_what_they_claim(tmp_path):
    """On a fake package: a core module whose function-local import of a study closes a cycle."""
    fake = tmp_path / "jaxnewton"
    (fake / "core").mkdir(parents=True)
    (fake / "studies").mkdir()
    for folder in (fake, fake / "core", fake / "studies"):
        (folder / "__init__.py").write_text("")
    (fake / "core" / "a.py").write_text("def f():\n    from jaxnewton.studies import b\n")
    (fake / "studies" / "b.py").write_text("from jaxnewton.core import a\n")
    edges = graph(fake)
    assert upward(edges) == [("jaxnewton.core.a", "jaxnewton.studies.b")]
    assert cycles(edges) == [["jaxnewton.core.a", "jaxnewton.studies.b", "jaxnewton.core.a"]]
    assert hidden(fake) == [("jaxnewton.core.a", "jaxnewton.studies.b")]
