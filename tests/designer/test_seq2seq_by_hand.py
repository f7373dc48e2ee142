"""The course's translator drawn by hand: a GRU encoder-decoder with attention, every card dragged
from the palette, every wire (the encoder's state into the decoder's h0, query/key/value into the
attention) dragged port to port, sizes typed into the inspector; Train on the first click, and
the Results show source / reference / model rows and an attention map. The new port kinds refuse
a wire that does not fit, with the reason.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QLineEdit, QPushButton, QSpinBox

from .conftest import port_view_pos
from .test_canvas import drag as wire_drag
from .test_first_run import RUN_TIMEOUT, drag_from_palette, drag_loop, issue_texts, loss_points  # noqa: F401

CARDS = [("source", "Input"), ("target", "Input"), ("src_embed", "Embedding"), ("tgt_embed", "Embedding"),
         ("encoder", "GRU"), ("decoder", "GRU"), ("attention", "MultiheadAttention"), ("join", "Concat"),
         ("words", "Dense"), ("translation", "Output")]
WIRES = [("source", "out", "src_embed", "in"), ("target", "out", "tgt_embed", "in"),
         ("src_embed", "out", "encoder", "in"), ("tgt_embed", "out", "decoder", "in"),
         ("encoder", "state", "decoder", "h0"), ("decoder", "out", "attention", "query"),
         ("encoder", "out", "attention", "key"), ("encoder", "out", "attention", "value"),
         ("decoder", "out", "join", "in"), ("attention", "out", "join", "in"),
         ("join", "out", "words", "in"), ("words", "out", "translation", "in")]
# What is typed into the inspector (everything else stays at the palette's defaults).
TYPED = {"source": {"shape": "7", "dtype": "int64", "field": "source"},
         "target": {"shape": "8", "dtype": "int64", "field": "target"},
         "src_embed": {"num_embeddings": "31", "embedding_dim": "32"},
         "tgt_embed": {"num_embeddings": "40", "embedding_dim": "32"},
         "encoder": {"hidden_size": "32"}, "decoder": {"hidden_size": "32"},
         "join": {"dim": "2"}, "words": {"out_features": "40"}, "translation": {"target": "target"}}


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def _wire(window, src, src_port, dst, dst_port) -> None:
    start = port_view_pos(window, src, src_port, True)
    end = window.view.mapFromScene(window.scene.node_items[dst].port(dst_port, False).scenePos())
    wire_drag(window, start, end)


def _type(qtbot, widget, text: str) -> None:
    if isinstance(widget, QComboBox) and widget.isEditable():
        widget = widget.lineEdit()
    elif isinstance(widget, QComboBox):
        widget.setFocus()
        QTest.keyClicks(widget, text)  # keyboard search picks the item, as a user typing would
        assert widget.currentText() == text
        return
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def _select(qtbot, window, node_id: str) -> None:
    card = window.scene.node_items[node_id]
    window.view.centerOn(card.center())
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.view.mapFromScene(card.center()))
    qtbot.waitUntil(lambda: window.inspector.node_id == node_id)


def _field(window, key: str):
    for kind in (QSpinBox, QLineEdit, QComboBox):
        widget = window.inspector.findChild(kind, f"field_{key}")
        if widget is not None and widget.isVisible():
            return widget
    raise AssertionError(f"the inspector shows no {key} field")


@pytest.mark.slow
def test_the_translator_drawn_by_hand_trains_on_the_first_click(qtbot, make_window, drag_loop):  # noqa: F811
    window = make_window()
    view = window.view
    view.setFocus()
    for _ in range(3):
        QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    width, height = view.viewport().width(), view.viewport().height()
    ids = {}
    for k, (name, type_name) in enumerate(CARDS):
        row, col = divmod(k, 4)
        at = QPoint(int(width * (col + 0.5) / 4), int(height * (row + 0.5) / 3.5))
        ids[name] = drag_from_palette(window, drag_loop, type_name, at)
    assert [window.graph.nodes[ids[n]].type for n, _ in CARDS] == [t for _, t in CARDS]

    # A tensor into the decoder's h0 is refused, saying where a state comes from.
    messages: list[str] = []
    window.scene.message.connect(messages.append)
    _wire(window, ids["src_embed"], "out", ids["decoder"], "h0")
    assert not window.graph.edges
    assert "takes a recurrent state but" in messages[-1] and "RNN, LSTM or GRU" in messages[-1]

    for src, sp, dst, dp in WIRES:
        _wire(window, ids[src], sp, ids[dst], dp)
    assert len(window.graph.edges) == len(WIRES)

    for name, fields in TYPED.items():
        _select(qtbot, window, ids[name])
        for key, text in fields.items():
            _type(qtbot, _field(window, key), text)
    # The data: the built-in translation pair, a few hundred sentences, two epochs.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: window.inspector.node_id is None)
    for key, text in (("data.dataset", "translation_synth"), ("data.limit", "400"), ("training.epochs", "2")):
        _type(qtbot, _field(window, key), text)
    assert window.graph.data.get("dataset") == "translation_synth"
    window.document.analyse()
    qtbot.waitUntil(lambda: any("No issues" in t for t in issue_texts(window)), timeout=20_000)

    results: list = []
    window.training.finished.connect(results.append)
    qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    assert window.training.running, window.training.panel.status.text()
    qtbot.waitUntil(lambda: bool(results), timeout=RUN_TIMEOUT)
    assert results[0].status == "completed", results[0].error
    assert results[0].regime == "seq2seq"
    assert loss_points(window) > 0
    tab = window.training.results.translations
    qtbot.waitUntil(lambda: tab.table.rowCount() > 0, timeout=RUN_TIMEOUT)
    assert tab.isVisible() or window.training.results.currentWidget() is tab
    row = [tab.table.item(0, c).text() for c in range(3)]
    assert row[0] and row[1], row  # source and reference words
    assert tab.attention.weights is not None and tab.attention.weights.shape[1] == len(row[0].split())
