"""Every result readable at 1280x800 and 1024x700: class names whole, captions apart, legends off
the curves, the template list wide enough; a palette search with no match says so; Help opens
the docs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt  # noqa: F401
from PySide6.QtWidgets import QApplication, QLabel

from designer.training.analysis import Predictions

SHAPES = ["background", "circle", "square", "triangle"]


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_confusion_matrix_shows_whole_class_names(make_window, size):
    w = make_window()
    w.resize(*size)
    view = w.training.results.confusion
    w.training.results_dock.raise_()
    w.training.results.setCurrentWidget(view)
    view.set_matrix(np.array([[50, 2, 1, 0], [3, 40, 0, 1], [0, 1, 44, 2], [1, 0, 3, 39]]), SHAPES, "epoch 3")
    view.grab()  # paint at the dock's size
    assert view.width() < 700  # a dock, not the whole window
    assert [row for row, _col in view.drawn_labels] == SHAPES
    assert [col for _row, col in view.drawn_labels] == SHAPES  # "backgr", "ckgrou" before


def test_prediction_captions_never_run_into_each_other(make_window):
    w = make_window()
    w.resize(1024, 700)
    grid = w.training.results.predictions
    w.training.results_dock.raise_()
    w.training.results.setCurrentWidget(grid)
    n = 32
    rng = np.random.default_rng(0)
    grid.set_predictions(Predictions(images=(rng.random((n, 16, 16, 3)) * 255).astype(np.uint8), truth=rng.integers(0, 4, n),
                                     predicted=rng.integers(0, 4, n), class_names=SHAPES))
    grid.grab()
    # every caption shown carries whole class names (no "bac…" stubs), however many samples fit
    assert grid.shown >= 4 and len(grid.drawn_captions) == grid.shown
    names = SHAPES + [f"→ {s}" for s in SHAPES] + [f"{a} → {b}" for a in SHAPES for b in SHAPES]
    assert all(line in names for lines in grid.drawn_captions for line in lines), grid.drawn_captions
    if grid.shown < n:
        assert f"{grid.shown} of {n} samples shown" in grid.toolTip()


def test_gan_plot_legends_sit_below_the_curves(make_window):
    w = make_window()
    plots = w.training.plots
    plots.set_regime("gan")
    for k in range(20):
        plots.store.add_event({"type": "step", "step": k, "epoch": 0, "losses": {
            "loss": 1.0, "d_loss": 0.6, "g_loss": 0.8, "d_x": 0.98, "d_g_z": 0.02}})
    plots.redraw(force=True)
    for name in ("ganScorePlot", "ganLossPlot"):
        item = plots.plots[name].getPlotItem()
        legend = plots._legends[name]
        assert legend.items, name  # the curves are named
        box = item.getViewBox().sceneBoundingRect()
        assert not legend.sceneBoundingRect().intersects(box), name


def test_template_dialog_keeps_the_list_readable_for_long_help(make_window, qtbot):
    from designer.template_dialog import TemplateDialog

    w = make_window()
    dialog = TemplateDialog(w)
    qtbot.addWidget(dialog)
    dialog.resize(760, 460)
    dialog.show()
    for name in ("dcgan", "vgg", "transfer_vgg"):
        dialog.select(name)
        QApplication.processEvents()
        fm = dialog.list.fontMetrics()
        widest = max(fm.horizontalAdvance(dialog.list.item(k).text()) for k in range(dialog.list.count()))
        assert dialog.list.width() >= widest + 20, name
        assert dialog.pane.horizontalScrollBar().maximum() == 0, name  # hints wrap, nothing sideways


def test_palette_search_without_a_match_says_so(make_window, qtbot):
    w = make_window()
    w.palette.search.setFocus()
    qtbot.keyClicks(w.palette.search, "zzqx")
    note = w.palette.findChild(QLabel, "paletteNoMatch")
    assert note.isVisible() and "No layer matches" in note.text() and "zzqx" in note.text()
    assert w.palette.visible_types() == []
    w.palette.search.clear()
    assert not note.isVisible() and w.palette.visible_types()


def test_help_documentation_opens_the_designer_guide(make_window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    w = make_window()
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Help")
    action = next(a for a in help_menu.actions() if a.text().replace("&", "") == "Documentation")
    action.trigger()
    assert opened and opened[0].toLocalFile().endswith("docs/designer.md")
    assert "designer.md" in w.statusBar().currentMessage()
