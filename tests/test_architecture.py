"""The package's layout holds (ARCHITECTURE.md): imports go one way, no import cycle, rooms stay small, ruff finds
nothing. Read from the source with ast, so a lazy import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qjgb_desktop"
MAX_LINES = 500
MAX_MODULES_PER_FOLDER = 12

# What each layer may never import (by module prefix). The order is ui → qtmodels → services → store/domain.
LAYERS = {
    "qjgb_desktop.domain": ("services", "store", "qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.planparse": ("services", "store", "qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.store": ("services", "qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.errors": ("services", "store", "qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.paths": ("services", "store", "qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.services": ("qtmodels", "ui", "cli", "app"),
    "qjgb_desktop.qtmodels": ("ui", "cli", "app"),
    "qjgb_desktop.ui": ("cli", "app"),
    "qjgb_desktop.app": ("cli",),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports, anywhere in its source."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module or ""
            candidates = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        out |= {c for c in candidates if c in modules and c != name}
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _in(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_layer_imports_only_downwards():
    wrong = []
    for name, targets in _graph().items():
        for layer, banned in LAYERS.items():
            if _in(name, layer):
                wrong += [f"{name} → {t}" for t in targets for b in banned if _in(t, f"qjgb_desktop.{b}")]
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_the_import_graph_has_no_cycle():
    # Packages are left out: their __init__ modules import nothing (the next test), so no cycle runs through them.
    modules = _modules()
    graph = {name: {t for t in targets if modules[t].name != "__init__.py"} for name, targets in _graph().items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            pytest.fail("import cycle: " + " → ".join(cycle))


def test_package_inits_import_nothing_of_ours_so_importing_a_room_costs_nothing():
    modules = _modules()
    heavy = {name: targets for name, targets in _graph().items() if modules[name].name == "__init__.py" and targets}
    assert not heavy


def test_no_module_passes_500_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"split these by responsibility (at most {MAX_LINES} lines):\n" + "\n".join(long)


def test_no_folder_holds_more_than_12_modules():
    crowded = []
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        n = len([p for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")])
        if n > MAX_MODULES_PER_FOLDER:
            crowded.append(f"{folder.relative_to(ROOT)}: {n}")
    assert not crowded


def test_the_command_line_is_one_package():
    assert not list(PACKAGE.glob("cli_*.py")) and (PACKAGE / "cli" / "entry.py").is_file()


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff comes with the test tools: pip install -e '.[test]'"
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
