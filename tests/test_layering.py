"""The layering, proved in fresh interpreters: what a package imports, directly or not.

graph_core, codegen, training and templates never load PySide6, pyqtgraph or the designer
(they run headless, on servers and under torchrun); graph_core never loads torch (shape
inference is arithmetic, so the canvas reacts instantly). A subprocess is the only honest
check: inside pytest, Qt and torch are already imported by other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "pyqtgraph", "designer")


def _loaded_after_import(*modules: str, watch: tuple[str, ...]) -> list[str]:
    """Import `modules` in a fresh interpreter; return the watched top-level packages it loaded."""
    probe = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"watch = {list(watch)!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(watch))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_probe_sees_indirect_imports() -> None:
    # graph_core uses networkx inside validation: the probe must notice such indirect imports
    assert _loaded_after_import("graph_core", watch=("networkx", "torch")) == ["networkx"]


def test_graph_core_loads_neither_torch_nor_qt() -> None:
    assert _loaded_after_import("graph_core", watch=("torch", *QT)) == []


@pytest.mark.parametrize("package", ["codegen", "training", "templates", "interop", "explain"])
def test_model_packages_load_no_qt(package: str) -> None:
    if not (ROOT / package / "__init__.py").exists():
        pytest.skip(f"{package} has not landed yet")
    assert _loaded_after_import(package, watch=QT) == []


def test_all_model_packages_together_load_no_qt() -> None:
    present = [p for p in ("graph_core", "codegen", "training", "templates", "interop", "explain") if (ROOT / p / "__init__.py").exists()]
    assert _loaded_after_import(*present, watch=QT) == []


def test_the_cli_imports_heavy_libraries_only_when_a_command_needs_them() -> None:
    # `netwright --help`, `validate` and `summary` must stay instant
    assert _loaded_after_import("netwright.cli", watch=("torch", *QT)) == []
