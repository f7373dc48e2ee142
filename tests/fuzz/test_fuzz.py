"""Fuzz: mutated template files, deep nesting, huge numbers and hostile text through load,
validate, summary and codegen — one clear line and no traceback, and every file that validates
compiles and runs one forward and backward pass on a batch of 2.

Hypothesis draws the mutations with a fixed seed (derandomize) and a bounded count, so the
suite is reproducible and takes about a minute; benchmarks/fuzz_long.py runs the same harness
over 20,000+ cases (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import DEPTHS, HOSTILE_TEXT, Case, make_case, run_case, template_docs

pytest.importorskip("torch")

DOCS = template_docs()
FUZZ = settings(derandomize=True, max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class DrawChooser:
    """A harness Chooser on hypothesis's `data.draw`, so failing cases shrink."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, options: Any) -> Any:
        return self.data.draw(st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))


def _check(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert not outcome.failures, f"{case.template} {case.steps}: {outcome.failures}"


@FUZZ
@given(data=st.data())
def test_mutated_template_files(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = make_case(DrawChooser(data), DOCS)
    _check(case, tmp_path_factory.mktemp("fuzz", numbered=True))


@pytest.mark.parametrize("name", sorted(DOCS))
def test_every_template_file_validates_and_runs(name: str, tmp_path: Path) -> None:
    outcome = run_case(Case(name, DOCS[name]), tmp_path)
    assert not outcome.failures
    assert outcome.validated and outcome.ran


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_nesting(depth: int, tmp_path: Path) -> None:
    case = Case("mlp", dict(DOCS["mlp"]), nest=depth)
    case.doc["nodes"] = [dict(case.doc["nodes"][0], ui="@@NEST@@"), *case.doc["nodes"][1:]]
    outcome = run_case(case, tmp_path)
    assert not outcome.failures
    # the spliced object sits four levels down (file, nodes, node, ui)
    assert outcome.loaded == (depth + 4 <= 64)


@settings(derandomize=True, max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(HOSTILE_TEXT) | st.text(max_size=12),
       where=st.sampled_from(["name", "node-name", "id", "field"]))
def test_hostile_text(text: str, where: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = DOCS["lenet"]
    case = Case("lenet", {**doc, "nodes": [dict(n) for n in doc["nodes"]], "edges": list(doc["edges"])})
    if where == "name":
        case.doc["name"] = text
    elif where == "node-name":
        case.doc["nodes"][1]["name"] = text
    elif where == "field":
        case.doc["nodes"][0]["params"] = {**case.doc["nodes"][0]["params"], "field": text}
    else:
        old = case.doc["nodes"][-1]["id"]
        case.doc["nodes"][-1]["id"] = text
        case.doc["edges"] = [{**e, "dst": [text, e["dst"][1]]} if e["dst"][0] == old else e
                             for e in case.doc["edges"]]
    _check(case, tmp_path_factory.mktemp("text", numbered=True))


@settings(derandomize=True, max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.integers(min_value=-2**70, max_value=2**70),
                       st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([10**9, 10**18, 10**300, 2**63, 1e308])),
       which=st.sampled_from(["out_channels", "kernel_size", "padding", "stride", "shape"]))
def test_huge_numbers(value: Any, which: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = DOCS["lenet"]
    nodes = [dict(n, params=dict(n.get("params", {}))) for n in doc["nodes"]]
    target = next(n for n in nodes if n["type"] == ("Input" if which == "shape" else "Conv2d"))
    target["params"][which] = [1, value, 28] if which == "shape" else value
    _check(Case("lenet", {**doc, "nodes": nodes}), tmp_path_factory.mktemp("num", numbered=True))
