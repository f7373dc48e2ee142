"""Wires training into the main window: docks, menu, the run's life cycle, locking and closing.

`TrainingController` owns the panel, plots, results and runs widgets and the window's
`EngineProcess`: the child process that trains, computes results and feature maps and lists
the CUDA devices, so the GUI process never imports torch. A QTimer polls the engine's pipe
`DRAIN_HZ` times a second while a run or a request is out: step events go into the plots'
store and the progress bar (once per drain, whatever the step rate), epoch events into the
store, sample pictures and results into the results panel. While a run is live the document
is locked; closing the window asks, then stops the run cleanly and ends the engine process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QStyle, QToolBar, QVBoxLayout, QWidget

import graph_core as gc

from .analysis import CONV_TYPES
from .engine_process import EngineProcess, EngineRun
from .explain_view import Explainer
from .loss_terms import curve_text
from .panel import TrainingPanel, data_progress_text, progress_text
from .plots import LivePlots
from .records import RunRecord, list_runs, runs_of, runs_root
from .results import ResultsPanel
from .runs import RunsPanel

DRAIN_HZ = 10  # events reach the GUI in batches; progress text updates this often
LOCK_REASON = "Training in progress — stop to edit"
RAISE_GAP_MS = 40  # between raising the Training and the Results dock: two paints, not one long
PREWARM_DELAY_MS = 1500  # after the graph became ready: the window has settled by then
MIN_PLOT_HEIGHT = 400  # px of the Training dock while a run shows its curves
STOP_TIMEOUT_S = 60.0  # closing the window waits this long for the run to stop and checkpoint


class TrainingController(QObject):
    """Training from the window. Signals: started(), finished(object RunResult or None)."""

    started = Signal()
    finished = Signal(object)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.panel = TrainingPanel()
        self.plots = LivePlots()
        self.results = ResultsPanel()
        self.runs = RunsPanel()
        self.engine = EngineProcess()  # started by the first command that needs it
        self.job: EngineRun | None = None
        self.run_dir: Path | None = None
        self.last_result: Any = None
        self.data_overrides: dict[str, Any] = {}
        self._epochs = 1
        self._maps_request = 0  # the feature-map request whose answer the tab waits for
        self._devices_pending = False  # asked the engine for the CUDA devices; no answer yet
        self._exports_pending = 0  # ONNX exports of recorded runs the engine is working on
        self._pretrained_pending = 0  # pretrained-weights checks the engine is working on
        # Runs made while the document had no file (in ./runs): they move beside the file when
        # it is first saved, so a run and its weights stay with the graph that made them.
        self.unsaved_runs: list[Path] = []
        self.drain_timer = QTimer(self)
        self.drain_timer.setInterval(int(1000 / DRAIN_HZ))
        self.drain_timer.timeout.connect(self.drain)
        # Once a graph is ready to train, the engine process is started (and imports torch, at
        # low priority) a moment later, so the first Train does not wait seconds for it.
        self.warm_requested = False
        self._warm_timer = QTimer(self, singleShot=True, interval=PREWARM_DELAY_MS)
        self._warm_timer.timeout.connect(self._prewarm)
        self._build_docks()
        self._build_menu()
        self._connect()
        self._document_replaced()

    # ---- building ----------------------------------------------------------------------------

    def _build_docks(self) -> None:
        w = self.window
        training = QWidget()
        training.setObjectName("trainingDockWidget")
        layout = QVBoxLayout(training)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.panel)
        layout.addWidget(self.plots, 1)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.training_dock = w.add_dock(training, "Training", "training", bottom)
        self.results_dock = w.add_dock(self.results, "Results", "results", bottom)
        self.runs_dock = w.add_dock(self.runs, "Runs", "runs", bottom)
        # Training shares the bottom-left tabs with Issues, Results and Runs the bottom-right ones
        # with Summary; the training tabs are raised, since they are what a user came to see.
        for neighbour, dock in (("issues", self.training_dock), ("summary", self.results_dock)):
            if neighbour in w.docks:
                w.tabifyDockWidget(w.docks[neighbour], dock)
        w.tabifyDockWidget(self.results_dock, self.runs_dock)
        for dock in (self.training_dock, self.results_dock, self.runs_dock):
            w.restoreDockWidget(dock)
        self.training_dock.raise_()
        self.results_dock.raise_()
        w.resizeDocks([self.training_dock], [400], Qt.Orientation.Vertical)

    def _build_menu(self) -> None:
        """A Training menu and a toolbar: Train stays one click away whichever tab is raised."""
        menu = self.window.menuBar().addMenu("&Training")
        icons, style = QStyle.StandardPixmap, self.window.style()
        self.train_action = QAction(style.standardIcon(icons.SP_MediaPlay), "&Train", self.window)
        self.train_action.setShortcut(QKeySequence("F5"))
        self.train_action.setToolTip("Train the graph on its data (F5)")
        self.pause_action = QAction(style.standardIcon(icons.SP_MediaPause), "&Pause", self.window)
        self.pause_action.setShortcut(QKeySequence("F6"))
        self.pause_action.setCheckable(True)
        self.stop_action = QAction(style.standardIcon(icons.SP_MediaStop), "&Stop", self.window)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.train_action.triggered.connect(lambda: self.start())
        self.pause_action.triggered.connect(self.panel.pause_button.setChecked)
        self.panel.pause_button.toggled.connect(self.pause_action.setChecked)
        self.stop_action.triggered.connect(lambda: self.stop())
        self.toolbar = QToolBar("Training", self.window)
        self.toolbar.setObjectName("trainingToolBar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (self.train_action, self.pause_action, self.stop_action):
            menu.addAction(a)
            self.toolbar.addAction(a)
            self.window.addAction(a)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self._sync_actions()

    def _connect(self) -> None:
        self.panel.train_requested.connect(lambda: self.start())
        self.panel.stop_requested.connect(self.stop)
        self.panel.pause_toggled.connect(self.pause)
        self.runs.message.connect(self._status_message)
        self.runs.tree.itemSelectionChanged.connect(self._feature_nodes)
        self.results.feature_maps.requested.connect(self.request_feature_maps)
        self.explainer = Explainer(self, self.results.explain)
        self.panel.device.devices_wanted.connect(self.request_devices)
        self.runs.export_in_engine = self.export_run_onnx
        self.window.exporter.trained_runs = self.trained_weights
        self.window.inspector.pretrained_checker = self.check_pretrained
        self.window.document.replaced.connect(self._document_replaced)
        self.window.document.analysed.connect(self._maybe_prewarm)
        self.window.files.path_changed.connect(self._path_changed)
        self.window.installEventFilter(self)

    # ---- public ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.job is not None

    def runs_root(self) -> Path:
        return runs_root(self.window.files.path)

    def trained_weights(self) -> list[Any]:
        """The File menu exports' choices: the trained runs of the open graph (whose weights fit
        it), the run selected in the Runs dock first, then the others newest first."""
        from ..export_dialog import WeightsChoice

        selected = [r.path for r in self.runs.selected()]
        records = list_runs(self.runs_root())
        fitting = runs_of(self.window.graph, sorted(records, key=lambda r: r.path not in selected))

        def choice(k: int, r: RunRecord) -> WeightsChoice:
            why = ("selected in the Runs dock" if r.path in selected else
                   "the latest run of this graph" if k == 0 or fitting[k - 1].path in selected else
                   "an earlier run of this graph")
            headline = f", {r.headline()}" if r.headline() else ""
            return WeightsChoice(f"Run {r.name} ({r.status}{headline}) — {r.checkpoint.name}",
                                 r.checkpoint, r.name, why)

        return [choice(k, r) for k, r in enumerate(fitting)]

    def start(self, overrides: dict[str, Any] | None = None) -> bool:
        """Train the open graph with the panel's settings (plus `overrides`); False if refused."""
        if self.running:
            return False
        from training import BindingError, analyse

        graph = self.window.graph
        try:
            task = analyse(graph)
        except BindingError as exc:
            self._refuse(exc.issues)
            return False
        misfits = [str(i) for i in self.window.document.data_issues if i.severity == "error"]
        if misfits:  # the Issues list has them, each with its fix: no process started to fail
            self._refuse(misfits, "the Issues list offers a fix for each")
            return False
        settings = self.panel.overrides()
        self._remember_settings(settings)
        config = {**settings, **(overrides or {})}
        self.run_dir = config.get("out") and Path(config["out"]) or self._new_run_dir(graph)
        config["out"] = str(self.run_dir)
        if self.window.files.path is None:
            self.unsaved_runs.append(self.run_dir)
        snapshot = gc.graph_from_dict(gc.graph_to_dict(graph))
        snapshot.data.update(self.data_overrides)
        root = self.window.files.path.parent if self.window.files.path else None
        self.job = self.engine.train(snapshot, config, root)
        self._epochs = int(config.get("epochs") or 1)
        regime, text = _view_of(task), curve_text(task)
        if (regime, text) != (getattr(self.plots, "regime", None), self.plots.text):  # a re-layout repaints
            self.plots.set_regime(regime, text)
        self.plots.reset()
        self.results.set_regime(regime)
        self.results.clear()
        self.results.feature_maps.set_nodes(_conv_nodes(snapshot))
        self.window.set_editing_locked(True, LOCK_REASON)
        self.panel.set_running(True)
        self.panel.show_progress(0, 1, "Starting — loading data and building the model…")
        self.panel.show_status(f"Training {graph.name} ({regime}); the graph is locked until it stops. "
                               f"Run folder: {self.run_dir}")
        self._sync_actions()
        # Raising and resizing the docks repaints most of the window: in the next event-loop
        # turn, so the click's own repaint and this one are two short stalls, not one long one.
        QTimer.singleShot(0, self._show_run_docks)
        self.drain_timer.start()
        self.plots.start()
        self.started.emit()
        return True

    def _maybe_prewarm(self) -> None:
        if self.warm_requested or self._warm_timer.isActive() or self.running or self.engine.alive:
            return
        if os.environ.get("NETWRIGHT_ENGINE_PREWARM", "1") != "0" and self.window.document.ready:
            self._warm_timer.start()

    def _prewarm(self) -> None:
        if not (self.running or self.engine.alive):
            self.warm_requested = True
            self.engine.warm()
            # The first paint of the plots and results (fonts, pyqtgraph's items) is the
            # longest: done now, while the user is not waiting, rather than after the click.
            for widget in (self.plots, self.results):
                widget.grab()

    def _refuse(self, issues: list[str], hint: str = "") -> None:
        lines = issues[:4] + ([f"… and {len(issues) - 4} more"] if len(issues) > 4 else [])
        self.panel.show_status(f"Cannot train yet{f' ({hint})' if hint else ''}:\n" + "\n".join(lines),
                               error=True)
        if hint and "issues" in self.window.docks:
            self.window.docks["issues"].raise_()

    def stop(self, wait: bool = False, skip_results: bool = False) -> None:
        """Stop the run after the current step; with `wait`, block until it has ended."""
        if self.job is None:
            return
        self.job.stop(skip_results)
        self.panel.show_progress(self.panel.progress.value(), self.panel.progress.maximum(),
                                 "Stopping after this step…")
        if wait:
            self.engine.wait_for("finished", STOP_TIMEOUT_S)
            self.drain()

    def pause(self, paused: bool) -> None:
        if self.job is None:
            return
        if paused:
            self.job.control.pause()
            self.panel.progress.setFormat("Paused — " + self.panel.progress.format())
        else:
            self.job.control.resume()

    def drain(self) -> None:
        """Take every event the engine sent since the last tick (GUI thread; never waits)."""
        last_step = None
        for event in self.engine.poll():
            kind = event.get("type")
            if kind == "step":
                self.plots.store.add_event(event)
                last_step = event
            elif kind == "epoch":
                self.plots.store.add_event(event)
                self.results.show_epoch(event)
            elif kind == "data" and self.job is not None and not self.job.control.stopped:
                # a large folder's listing and header pass: minutes before the first step
                self.panel.show_progress(*data_progress_text(event))
            elif kind == "samples":
                self.results.show_samples(event)
            elif kind == "results":
                self.results.show_results(event["results"])
            elif kind == "results_error":
                self.panel.show_status(f"Results could not be computed: {event['message']}", error=True)
            elif kind == "error":
                self.panel.show_status(_error_text(event), error=True)
            elif kind == "finished":
                self._finish(event.get("result"))
                last_step = None
            elif kind == "feature_maps" and event.get("request") == self._maps_request:
                self._maps_request = 0
                self.results.feature_maps.show_maps(event.get("maps"), event.get("message") or "")
            elif kind == "explained":
                self.explainer.receive(event)
            elif kind == "devices":
                self._devices_pending = False
                self.panel.device.add_devices(event.get("names") or [])
            elif kind == "onnx_exported":
                self._exports_pending = max(0, self._exports_pending - 1)
                self.runs.export_done(bool(event.get("ok")), str(event.get("message")))
            elif kind == "pretrained_report":
                self._pretrained_pending = max(0, self._pretrained_pending - 1)
                form = self.window.inspector.settings_form
                if form is not None:
                    form.pretrained.show_report(bool(event.get("ok")), list(event.get("lines") or []),
                                                event.get("table"))
            elif kind == "engine_died":
                self._engine_died(event.get("exitcode"))
        if last_step is not None and self.job is not None and not (
                self.job.control.paused or self.job.control.stopped):
            self.panel.show_progress(*progress_text(last_step, self._epochs))
        if self.job is None and not (self._maps_request or self._devices_pending
                                     or self._exports_pending or self._pretrained_pending
                                     or self.explainer.pending):
            self.drain_timer.stop()  # nothing is out: no need to look at the pipe

    def request_feature_maps(self, node: str, sample: int) -> None:
        """Compute a conv node's maps from the chosen run (else the latest) in the engine."""
        chosen = self.runs.selected()
        run_dir = chosen[0].path if len(chosen) == 1 else self.run_dir
        if run_dir is None:
            self.results.feature_maps.show_maps(None, "Train the model first (or pick a run).")
            return
        root = self.window.files.path.parent if self.window.files.path else None
        self._maps_request = self.engine.feature_maps(Path(run_dir), node, sample, root)
        self.drain_timer.start()

    def request_devices(self) -> None:
        """Ask the engine for the CUDA devices (the list shows Auto and CPU until it answers)."""
        self._devices_pending = True
        self.engine.devices()
        self.drain_timer.start()

    def check_pretrained(self, graph: gc.Graph, folder: Path | None) -> None:
        """Load the graph's pretrained weights file in the engine (the inspector's Check)."""
        self._pretrained_pending += 1
        self.engine.pretrained(graph, folder)
        self.drain_timer.start()

    def export_run_onnx(self, record: Any, path: str) -> None:
        """Export a recorded run's model to ONNX in the engine (the runs panel's Export ONNX…)."""
        self._exports_pending += 1
        self.engine.export_onnx(record.graph(), path, record.checkpoint, record.name)
        self.drain_timer.start()

    # ---- internals ---------------------------------------------------------------------------

    def _finish(self, result: Any) -> None:
        if self.job is None:
            return
        self.job = None
        self.plots.stop()
        self.last_result = result
        self.window.set_editing_locked(False)
        self.panel.set_running(False)
        self._sync_actions()
        if result is None or result.status == "failed":
            msg = result.error if result is not None else "training crashed"
            self.panel.show_progress(0, 1, "Failed — see the message below")
            if result is not None and result.issues:
                self.panel.show_status("Training failed:\n" + "\n".join(result.issues[:6]), error=True)
            elif msg:
                self.panel.show_status(f"Training failed: {msg}", error=True)
        else:
            what = {"completed": "Finished", "stopped": "Stopped", "early_stopped": "Stopped early"}.get(
                result.status, result.status)
            figures = ", ".join(f"{k} {v:.4g}" for k, v in result.final.items()
                                if isinstance(v, float) and k != "seconds")
            self.panel.show_progress(self.panel.progress.maximum(), self.panel.progress.maximum(),
                                     f"{what}: {_count(result.epochs, 'epoch')}, {_count(result.steps, 'step')} in "
                                     f"{result.seconds:.1f} s")
            self.panel.show_status(f"{what}. {figures}. Checkpoint: {result.last_checkpoint}")
        self._adopt_unsaved_runs()
        if result is not None and self.run_dir is not None:
            result.run_dir = self.run_dir  # where the run is now (it may have followed the file)
        self.runs.set_root(self.runs_root())
        self.runs.refresh(select=self.run_dir)
        self.finished.emit(result)

    def _path_changed(self) -> None:
        self._adopt_unsaved_runs()
        self.runs.set_root(self.runs_root())

    def _adopt_unsaved_runs(self) -> None:
        """Once the document has a file, move the runs it made before into the file's runs
        folder (a run still training moves when it ends)."""
        if self.window.files.path is None or not self.unsaved_runs:
            return
        root = self.runs_root()
        keep = []
        for old in self.unsaved_runs:
            if self.running and old == self.run_dir:
                keep.append(old)
                continue
            if not old.is_dir() or old.parent.resolve() == root.resolve():
                continue
            new = _free_name(root / old.name)
            try:
                root.mkdir(parents=True, exist_ok=True)
                shutil.move(str(old), str(new))
            except OSError as exc:
                self._status_message(f"Could not move run {old.name} beside the graph: {exc}")
                continue
            _repoint(new, old)
            if self.run_dir == old:
                self.run_dir = new
            self._status_message(f"Run {old.name} moved beside the graph: {new}")
        self.unsaved_runs = keep

    def _show_run_docks(self) -> None:
        if not self.running:
            return
        self.training_dock.raise_()
        if self.training_dock.height() < MIN_PLOT_HEIGHT:  # make room for the curves
            self.window.resizeDocks([self.training_dock], [MIN_PLOT_HEIGHT], Qt.Orientation.Vertical)
        # The results are what a run is for: shown over Runs, after the Training dock has been
        # painted (the first paint of either dock in a window is its longest).
        QTimer.singleShot(RAISE_GAP_MS, self._raise_results)

    def _raise_results(self) -> None:
        if self.running:
            self.results_dock.raise_()

    def _new_run_dir(self, graph: gc.Graph) -> Path:
        root = self.runs_root()
        slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in graph.name) or "run"
        base = root / f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}"
        path, n = base, 2
        while path.exists():
            path, n = Path(f"{base}-{n}"), n + 1
        return path

    def _remember_settings(self, settings: dict[str, Any]) -> None:
        """Write panel settings that differ from what the document runs into its training section.

        The panel edits the document as the user turns its fields, so this normally finds
        nothing to write and Train adds no undo step; it stays as a guard for settings handed
        in by a script.
        """
        from graph_core import Macro, SetSetting
        from training import ConfigError, TrainConfig

        try:
            runs = TrainConfig.resolve(self.window.graph.training)
        except ConfigError:
            return  # the run itself reports the bad value
        changed = [SetSetting("training", k, v) for k, v in settings.items()
                   if hasattr(runs, k) and getattr(runs, k) != v]
        if changed:
            # a locked or odd document: the run still gets the settings as overrides
            with contextlib.suppress(RuntimeError, ValueError):
                self.window.document.execute(Macro(changed, "training settings"))

    def _document_replaced(self) -> None:
        """Another graph is open (New, Open, a template): its settings, and no results of the
        previous one: plots, Results tabs, feature maps, progress and status line start over."""
        if self.running:
            return
        self.panel.attach(self.window.document)
        self.panel.clear()
        self.runs.set_root(self.runs_root())
        self.unsaved_runs = []  # they belong to the document that was closed; they stay put
        self.last_result = None
        self.run_dir = None
        self.plots.reset()
        self.results.clear()
        maps = self.results.feature_maps
        maps.show_maps(None, "")
        for picture in (maps.activations, maps.kernels):
            picture.set_picture(None)
        maps.set_nodes(_conv_nodes(self.window.graph))
        try:
            from training import analyse

            task = analyse(self.window.graph)
            regime, text = _view_of(task), curve_text(task)
        except Exception:  # an unfinished graph: show the plain loss plot until it trains
            regime, text = "supervised", None
        self.plots.set_regime(regime, text)
        self.results.set_regime(regime)
        self._maybe_prewarm()  # a template or file opened ready to train

    def _engine_died(self, exitcode: int | None) -> None:
        """The engine process went away: fail the run, answer what was asked; the next command
        starts a fresh process."""
        why = f"the training process ended unexpectedly (exit code {exitcode})"
        if self._maps_request:
            self._maps_request = 0
            self.results.feature_maps.show_maps(None, f"Could not compute feature maps: {why}")
        self.explainer.engine_died(why)
        if self._devices_pending:
            self._devices_pending = False
            self.panel.device.reset_probe()  # the next process is asked when the list opens again
        for _ in range(self._exports_pending):
            self.runs.export_done(False, f"ONNX export failed: {why}")
        self._exports_pending = 0
        form = self.window.inspector.settings_form
        if self._pretrained_pending and form is not None:
            form.pretrained.show_report(False, [f"Could not check the weights: {why}"])
        self._pretrained_pending = 0
        if self.job is not None:
            from training import RunResult

            self._finish(RunResult(status="failed", run_dir=self.run_dir, error=why))

    def _feature_nodes(self) -> None:
        chosen = self.runs.selected()
        if len(chosen) == 1:
            with contextlib.suppress(Exception):  # a damaged run folder: keep the list as it is
                self.results.feature_maps.set_nodes(_conv_nodes(chosen[0].graph()))

    def _sync_actions(self) -> None:
        self.train_action.setEnabled(not self.running)
        self.pause_action.setEnabled(self.running)
        self.stop_action.setEnabled(self.running)
        if not self.running:
            self.pause_action.setChecked(False)

    def _status_message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if obj is self.window and event.type() == QEvent.Type.Close:
            if self.running:
                if not self._confirm_close():
                    event.ignore()
                    return True
                self.stop(wait=True, skip_results=True)
            self.drain_timer.stop()
            self.engine.close()  # a window opened later starts a fresh one on demand
        return False

    def _confirm_close(self) -> bool:
        if os.environ.get("NETWRIGHT_NO_DIALOGS"):
            return True
        answer = QMessageBox.question(
            self.window, "Training is running",
            "A training run is in progress. Stop it (keeping its last checkpoint) and close?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


def _free_name(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate, n = Path(f"{path}-{n}"), n + 1
    return candidate


def _repoint(new: Path, old: Path) -> None:
    """Paths into the run folder written in its JSON files (out, checkpoints) follow the move."""
    def fix(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(str(old)):
            return str(new) + value[len(str(old)):]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    for name in ("config.json", "summary.json"):
        file = new / name
        with contextlib.suppress(OSError, ValueError):
            file.write_text(json.dumps(fix(json.loads(file.read_text(encoding="utf-8"))), indent=2),
                            encoding="utf-8")


def _view_of(task: Any) -> str:
    """The regime as the plots and results see it: a supervised regressor is its own view."""
    if task.regime == "supervised" and task.main_metric[0] == "mae":
        return "regression"
    return task.regime


def _conv_nodes(graph: gc.Graph) -> list[str]:
    return [n.id for n in graph.nodes.values() if n.type in CONV_TYPES]


def _error_text(event: dict[str, Any]) -> str:
    issues = [i for i in (event.get("issues") or []) if i]
    if issues and issues != [event.get("message")]:
        return "Training failed:\n" + "\n".join(issues[:6])
    return f"Training failed: {event.get('message')}"


def _count(n: int, noun: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
