"""What a newcomer met in the real window (under Xvfb, with mouse and keyboard) and was fixed:
a large image folder's first pass had no progress in the window, and the progress bar wrapped
its text onto two clipped lines at a usual window size."""

from __future__ import annotations

from pathlib import Path

import pytest

import templates
from designer.training.panel import TrainingPanel, data_progress_text

from .test_training_engine import RUN_TIMEOUT, click, image_folder


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def test_the_data_pass_of_an_image_folder_shows_on_the_progress_bar(qtbot, make_window, tmp_path):
    g = templates.build("lenet", input_size=16, in_channels=3, num_classes=2)
    g.data = {"dataset": str(image_folder(Path(tmp_path) / "photos")), "image_size": 16,
              "stream": "on", "workers": 0}
    g.training.update({"epochs": 1, "batch_size": 8})
    window = make_window(g)
    tc = window.training
    shown: list[str] = []
    original = tc.panel.show_progress
    tc.panel.show_progress = lambda done, total, text: (shown.append(text), original(done, total, text))
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed", blocker.args[0].error
    assert "Data: reading headers 24/24" in shown, shown


def test_data_progress_reads_like_the_cli_line():
    assert data_progress_text({"stage": "listing files", "done": 1200, "total": None}) == (
        0, 0, "Data: listing files… 1,200 so far")
    assert data_progress_text({"stage": "reading headers", "done": 500, "total": 18000}) == (
        500, 18000, "Data: reading headers 500/18,000")


@pytest.mark.parametrize("width", [990, 1200, 1600])
def test_the_progress_bar_fits_a_run_text_on_one_line(qtbot, width):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 120)
    panel.show()
    qtbot.waitExposed(panel)
    text = "Epoch 1/3 · step 261/450 · 1,379 samples/s · ETA 0:25"
    panel.show_progress(261, 1350, text)
    needed = panel.progress.fontMetrics().horizontalAdvance(text) + 8

    def fits() -> None:  # once the layout has settled
        room = panel.progress.contentsRect().width()
        assert room >= needed, f"{room} px for a text of {needed} px at a width of {width}"

    qtbot.waitUntil(fits, timeout=2000)


def test_results_of_a_large_folder_cover_every_class(tmp_path):
    # A folder lists its files class by class and the split keeps that order: the results used
    # to be computed on the first 512 validation samples — all one class, a one-row matrix.
    import numpy as np
    from PIL import Image

    from designer.training.analysis import ANALYSIS_SAMPLES, RunAnalyser

    rng = np.random.default_rng(0)
    for k, name in enumerate(("a", "b", "c")):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(200):
            pixels = (k * 100 + rng.integers(0, 40, (12, 12))).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{i}.png")
    g = templates.build("lenet", input_size=12, in_channels=1, num_classes=3)
    g.data = {"dataset": str(tmp_path / "photos"), "val_fraction": 0.9}
    analyser = RunAnalyser(g, g.data, seed=0)  # random weights: the counts are what matter
    results = analyser.results(epoch=1)
    assert results.confusion.sum() == ANALYSIS_SAMPLES < 540  # 540 validation samples
    assert (results.confusion.sum(axis=1) > 100).all(), results.confusion
    assert set(results.predictions.truth.tolist()) == {0, 1, 2}
    maps = analyser.feature_maps("conv1", 530)  # any validation sample, past the 512
    assert maps.sample == 530 and maps.activations is not None


def test_importing_asks_about_unsaved_changes_once(qtbot, make_window, tmp_path, monkeypatch):
    from designer.files import QMessageBox

    from .test_import_model import IMPORT_TIMEOUT, _digits_cnn_file, _start_import

    window = make_window(templates.build("lenet"))
    window.document.undo_stack.resetClean()  # unsaved changes
    monkeypatch.setenv("NETWRIGHT_NO_DIALOGS", "0")
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text, *a: (
        asked.append(text), QMessageBox.StandardButton.Discard)[1])
    source, target = _digits_cnn_file(tmp_path / "cnn.onnx"), tmp_path / "cnn.json"
    with qtbot.waitSignal(window.importer.finished, timeout=IMPORT_TIMEOUT) as blocker:
        _start_import(window, monkeypatch, source, target)
    assert blocker.args[0], blocker.args[1]
    assert window.files.path == target
    assert len(asked) == 1, asked  # Discard was the answer: no second "Save them?" on opening


def test_an_imported_chain_opens_wrapped_to_the_canvas(qtbot, make_window, tmp_path, monkeypatch):
    # the importer writes a chain in one row: fitted to the canvas, an imported VGG was a strip
    # of unreadable cards. The file is rewritten wrapped, so reopening it gives the same layout.
    from graph_core import load_graph

    from .test_import_model import IMPORT_TIMEOUT, _digits_cnn_file, _start_import

    window = make_window()
    source, target = _digits_cnn_file(tmp_path / "cnn.onnx"), tmp_path / "cnn.json"
    with qtbot.waitSignal(window.importer.finished, timeout=IMPORT_TIMEOUT) as blocker:
        _start_import(window, monkeypatch, source, target)
    assert blocker.args[0], blocker.args[1]
    rows = {round(float(n.ui["y"])) for n in window.graph.nodes.values()}
    assert len(rows) >= 2, rows
    on_disk = load_graph(target)
    assert {nid: n.ui for nid, n in on_disk.nodes.items()} == \
        {nid: n.ui for nid, n in window.graph.nodes.items()}
    assert not window.files.modified


def test_a_template_opens_wrapped_and_a_laid_out_one_as_it_was():
    from designer.canvas.layout import wrap_if_unreadable

    g = templates.build("vgg", depth=11)  # one row, as templates are built
    assert wrap_if_unreadable(g, 1.8)
    assert len({round(float(n.ui["y"])) for n in g.nodes.values()}) >= 3
    before = {nid: dict(n.ui) for nid, n in g.nodes.items()}
    assert not wrap_if_unreadable(g, 1.8)  # readable now: left alone
    assert {nid: n.ui for nid, n in g.nodes.items()} == before


def test_the_attention_spin_counts_sentences_like_the_table_rows(qtbot):
    # the table numbers its rows from 1; the spin counted from 0, so "sentence 0" was row 1
    import numpy as np

    from designer.training.translations import Translation, Translations
    from designer.training.translations_view import TranslationsTab

    tab = TranslationsTab()
    qtbot.addWidget(tab)
    rows = [Translation([f"w{i}"], ["x"], ["x"], np.ones((2, 1))) for i in range(5)]
    tab.set_translations(Translations(rows=rows, exact=5), epoch=1)
    assert (tab.sample.minimum(), tab.sample.maximum(), tab.sample.value()) == (1, 5, 1)
    assert tab.attention.columns == ["w0"]  # row 1
    tab.sample.setValue(3)
    assert tab.attention.columns == ["w2"]  # row 3
    assert tab.table.verticalHeaderItem(2) is None or tab.table.verticalHeaderItem(2).text() == "3"
    tab.table.setCurrentCell(4, 0)
    assert tab.sample.value() == 5 and tab.attention.columns == ["w4"]


def _header_after(qtbot, window, key: str, value) -> str:
    from graph_core.commands import SetSetting

    window.document.execute(SetSetting("data", key, value))
    qtbot.waitUntil(lambda: not window.document.data_state.pending, timeout=20_000)
    return window.data_panel.header.text()


def test_the_data_panel_says_whether_the_images_are_held_in_memory_or_streamed(qtbot, make_window,
                                                                            tmp_path):
    g = templates.build("lenet", input_size=16, in_channels=3, num_classes=2)
    g.data = {"dataset": str(image_folder(tmp_path / "photos")), "image_size": 16}
    window = make_window(g)
    qtbot.waitUntil(lambda: not window.document.data_state.pending, timeout=20_000)
    assert window.data_panel.header.text().endswith(
        "Images: 0 MB as float32 → decoded into memory before training (stream auto: it streams "
        "above 512 MB or a quarter of the free memory)")
    assert _header_after(qtbot, window, "stream", "on").endswith(
        "→ read from disk batch by batch, decoded by 2 worker processes (stream on)")
    assert _header_after(qtbot, window, "workers", 0).endswith("decoded by the training process (stream on)")


def test_the_data_panel_says_a_compressed_npz_cannot_stream(qtbot, make_window, tmp_path):
    import numpy as np

    np.savez_compressed(tmp_path / "pics.npz", image=np.zeros((20, 1, 12, 12), np.uint8),
                        label=np.arange(20) % 2)
    g = templates.build("lenet", input_size=12, num_classes=2)
    g.data = {"dataset": str(tmp_path / "pics.npz"), "stream": "on"}
    window = make_window(g)
    qtbot.waitUntil(lambda: not window.document.data_state.pending, timeout=20_000)
    assert window.data_panel.header.text().endswith(
        "→ decoded into memory: the archive's images are compressed (np.savez_compressed); "
        "write it with np.savez to stream it")
    np.savez(tmp_path / "raw.npz", image=np.zeros((20, 1, 12, 12), np.uint8), label=np.arange(20) % 2)
    assert "read from disk batch by batch" in _header_after(qtbot, window, "dataset", str(tmp_path / "raw.npz"))


def test_the_data_thumbnails_show_more_than_the_first_class(tmp_path):
    import numpy as np
    from PIL import Image

    from designer.data_samples import sample_images

    for name, lit in (("left", slice(0, 6)), ("right", slice(6, 12))):  # 12 of each, in order
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(12):
            pixels = np.zeros((12, 12), np.uint8)
            pixels[:, lit] = 255
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{i}.png")
    images = sample_images({"dataset": str(tmp_path / "photos")}, None, "image", count=8)
    sides = {"left" if im[:, :6].mean() > im[:, 6:].mean() else "right" for im in images}
    assert len(images) == 8 and sides == {"left", "right"}


def test_plots_of_a_new_graph_forget_the_previous_runs_range(qtbot, plots):
    from designer.training.series import MetricStore

    store = MetricStore()
    for step in range(1, 501):
        store.add_event({"type": "step", "step": step, "epoch": 1, "epoch_step": step,
                         "epoch_steps": 500, "losses": {"loss": 2.3 + 0.01 * (step % 3)}})
    plots.reset(store)
    plots.redraw(force=True)
    item = plots.plots["lossPlot"].getPlotItem()
    qtbot.waitUntil(lambda: item.viewRange()[0][1] > 400)
    plots.reset()  # another graph opened: no curve yet
    qtbot.wait(50)
    (x0, x1), (y0, y1) = item.viewRange()
    assert x1 < 2 and y1 < 2, item.viewRange()  # not steps 0-500 and losses around 2.3


def test_the_data_dock_reads_a_folders_headers_not_its_pixels(qtbot, make_window, tmp_path,
                                                              monkeypatch):
    # below "auto"'s threshold a folder is decoded whole when trained; the Data dock only needs
    # its schema and eight thumbnails, and decoded it all into the window's memory to get them
    import training.datasets.images as images
    import training.datasets.lazy as lazy
    from designer.data_samples import sample_images

    decoded: list[int] = []
    monkeypatch.setattr(images, "_read_image", lambda *a: decoded.append(1))  # the in-memory decode
    real = lazy.decode_image
    monkeypatch.setattr(lazy, "decode_image", lambda *a: (decoded.append(1), real(*a))[1])
    g = templates.build("lenet", input_size=16, in_channels=3, num_classes=2)
    g.data = {"dataset": str(image_folder(tmp_path / "photos")), "image_size": 16, "stream": "off"}
    window = make_window(g)
    qtbot.waitUntil(lambda: not window.document.data_state.pending, timeout=20_000)
    assert window.document.data_state.schema.n_samples == 24 and decoded == []
    assert len(sample_images(g.data, None, "image", count=8)) == 8
    assert len(decoded) == 8
