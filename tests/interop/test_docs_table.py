"""docs/import.md's operator table is the importer's table, and the table names real nodes."""

from __future__ import annotations

import graph_core as gc
from interop.onnx_docs import DOC, render
from interop.onnx_ops import OPS


def test_docs_match_the_table():
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "docs/import.md is stale: run `python -m interop.onnx_docs`"
    for op in OPS:
        assert f"\n| {op} | " in text


def test_every_rule_names_registered_nodes():
    for rule in OPS.values():
        for type_name in rule.nodes:
            assert gc.has_spec(type_name), f"{rule.op} maps to unknown node type {type_name}"
        assert rule.note and "|" not in rule.note
