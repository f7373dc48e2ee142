"""Golden files: the generated source of a few small graphs, exactly.

A change to the emitted code shows up here as a readable diff. After an intended change,
regenerate with `NETWRIGHT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/codegen/test_golden.py`
and review the diff of tests/codegen/golden/ before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen import generate_source
from tests.registry_samples import sample_graph

from . import graphs

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "mlp": graphs.mlp,
    "segnet": graphs.segnet,
    "vae": graphs.vae,
    "two_heads": graphs.two_heads,
    "blocks": graphs.with_block,
    "gan": lambda: sample_graph("Discriminator"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_matches_golden_file(name):
    source = generate_source(CASES[name]()).source
    path = GOLDEN / f"{name}.py"
    if os.environ.get("NETWRIGHT_UPDATE_GOLDEN") == "1":
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with NETWRIGHT_UPDATE_GOLDEN=1"
    assert source == path.read_text(encoding="utf-8")


def test_no_stale_golden_files():
    assert {p.stem for p in GOLDEN.glob("*.py")} == set(CASES)
