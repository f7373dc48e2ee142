"""The Translations tab at the Results dock's width: whole sentences are readable, not elided."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics

from designer.training.translations import Translation, Translations
from designer.training.translations_view import TranslationsTab


def test_long_sentences_wrap_into_rows_tall_enough_to_read(qtbot):
    tab = TranslationsTab()
    qtbot.addWidget(tab)
    tab.resize(480, 320)  # the Results dock at 1280x800
    tab.show()
    source = ["the", "big", "black", "dog", "likes", "the", "small", "white", "cat"]
    target = ["le", "grand", "chien", "noir", "aime", "le", "petit", "chat", "blanc"]
    rows = [Translation(source, target, target, np.full((len(target) + 1, len(source)), 1 / len(source)))
            for _ in range(8)]
    tab.set_translations(Translations(rows=rows, exact=8), epoch=1)  # more rows than fit: a scroll bar
    qtbot.waitExposed(tab)
    qtbot.wait(100)  # the scroll bar's layout pass narrows the columns after the rows were sized
    assert tab.table.width() >= 200  # three columns of sentences beside the map (its minimum: 240)
    metrics = QFontMetrics(tab.table.font())
    for i in range(8):
        for j in range(3):
            text = tab.table.item(i, j).text()
            width = tab.table.columnWidth(j) - 8  # the cell's margins
            needed = metrics.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, text).height()
            assert tab.table.rowHeight(i) >= needed, (i, j, text)
            assert tab.table.item(i, j).toolTip() == text
    assert tab.attention.weights is not None


def _analyser(graph, tmp_path):
    from designer.training.analysis import RunAnalyser

    graph.data = {"dataset": "translation_synth", "n_samples": 200}
    return RunAnalyser(graph, root=tmp_path)


def test_an_imported_transformer_is_translated_with_its_attention(tmp_path):
    """An imported graph's nodes are named by the file (embedding, matmul_691, ...), its decoder
    layers are causal by a parameter: the sentences and the cross-attention come all the same."""
    import codegen
    import templates
    from designer.training.translations import translations_of
    from interop import import_source

    template = templates.build("transformer", d_model=8, nhead=2, num_layers=1, dim_feedforward=16)
    codegen.export_onnx(template, tmp_path / "t.onnx")
    imported = import_source(str(tmp_path / "t.onnx"), tmp_path / "imported.json").graph
    for graph in (template, imported):
        analyser = _analyser(graph, tmp_path)
        assert analyser.regime == "seq2seq"
        out = translations_of(analyser)
        assert out is not None and len(out.rows) == 8 and not out.note
        row = out.rows[0]
        assert row.source and row.reference
        assert row.attention is not None  # (words + EOS, at most the 8 positions decoded; source words)
        assert row.attention.shape == (min(len(row.model) + 1, 8), len(row.source))


def test_the_tab_says_why_it_has_no_translations(qtbot, tmp_path):
    import templates
    from designer.training.translations import translations_of
    from designer.training.translations_view import WAITING

    analyser = _analyser(templates.build("transformer", d_model=8, nhead=2, num_layers=1), tmp_path)
    analyser.info = {}  # data without vocabularies
    out = translations_of(analyser)
    assert out.rows == [] and "'source' has no vocabulary" in out.note
    tab = TranslationsTab()
    qtbot.addWidget(tab)
    tab.set_translations(out, epoch=1)
    assert tab.info.text() == out.note
    tab.set_translations(None)
    assert tab.info.text() == WAITING
