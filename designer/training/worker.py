"""Training off the GUI thread: `TrainingJob` runs `training.train` on a QThread.

The engine calls `on_event` on the training thread for every step. The job only appends the
event to a lock-free deque (`EventBuffer`); the GUI thread drains it from a QTimer a few times a
second and updates plots and progress once per drain, never once per step. Results that need a
model forward (confusion matrix, latent map) are computed here, on the training thread, after an
epoch's checkpoint when they cost little next to the epoch, and always at the end of the run;
they travel through the same buffer, so the GUI sees everything in order.
"""

from __future__ import annotations

import collections
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread

import graph_core as gc

# Per-epoch results are skipped when computing them would take more than this share of the
# epoch's time: training throughput matters more than a live confusion matrix.
ANALYSIS_BUDGET = 0.05


class EventBuffer:
    """Events from the training thread to the GUI thread (deque appends/pops are thread-safe)."""

    def __init__(self) -> None:
        self._queue: collections.deque[dict[str, Any]] = collections.deque()

    def put(self, event: dict[str, Any]) -> None:
        self._queue.append(event)

    def drain(self) -> list[dict[str, Any]]:
        """Everything queued so far, oldest first."""
        out = []
        pop = self._queue.popleft
        for _ in range(len(self._queue)):
            out.append(pop())
        return out

    def __len__(self) -> int:
        return len(self._queue)


class TrainingJob(QThread):
    """One training run on its own thread.

    Args:
        graph: the graph to train; the job trains a private copy, so later edits cannot race it.
        config: TrainConfig overrides (epochs, batch_size, lr, device, out, ...).
        root: folder relative dataset paths are resolved against (the graph file's folder).
        analyse: compute the results panel's figures (off in the throughput benchmark).

    After `start()`, `control` pauses, resumes and stops the run and `buffer` holds its events;
    the last event is `{"type": "finished", "result": RunResult | None}`.
    """

    def __init__(self, graph: gc.Graph, config: dict[str, Any], root: str | Path | None = None,
                 analyse: bool = True, parent: Any = None) -> None:
        super().__init__(parent)
        from training import RunControl

        self.graph = gc.graph_from_dict(gc.graph_to_dict(graph))
        self.config = dict(config)
        self.root = Path(root) if root else None
        self.analyse = analyse
        self.control = RunControl()
        self.buffer = EventBuffer()
        self.result: Any = None
        self.skip_results = False  # set when the window closes: finish fast
        self._analyser: Any = None
        self._analysed_step = -1
        self._epoch_started = time.perf_counter()
        self._last_epoch = 0

    def stop(self, skip_results: bool = False) -> None:
        """Ask the run to stop after the current step (it keeps its last checkpoint)."""
        self.skip_results = self.skip_results or skip_results
        self.control.stop()

    # ---- training thread -------------------------------------------------------------------

    def run(self) -> None:  # noqa: D102 (QThread entry point)
        from training import train

        result = None
        try:
            result = train(self.graph, self.config, on_event=self._on_event, stop=self.control,
                           root=self.root)
        except Exception as exc:  # the engine reports expected failures itself; this is a bug
            self.buffer.put({"type": "error", "message": f"{type(exc).__name__}: {exc}", "issues": [],
                             "traceback": traceback.format_exc()})
        self.result = result
        if result is not None and result.last_checkpoint is not None and not self.skip_results:
            self._results(Path(result.last_checkpoint), result.steps, result.epochs, final=True)
        self.buffer.put({"type": "finished", "result": result})

    def _on_event(self, event: dict[str, Any]) -> None:
        self.buffer.put(event)
        kind = event.get("type")
        if kind == "epoch":
            self._last_epoch = int(event.get("epoch") or 0)
        elif kind == "checkpoint" and not event.get("best") and not self.control.stopped:
            spent = time.perf_counter() - self._epoch_started
            self._results(Path(event["path"]), int(event.get("step") or 0), self._last_epoch,
                          final=False, epoch_seconds=spent)
            self._epoch_started = time.perf_counter()

    def _results(self, weights: Path, step: int, epoch: int, final: bool,
                 epoch_seconds: float = 0.0) -> None:
        if not self.analyse or step == self._analysed_step:
            return
        cost = getattr(self, "_analysis_seconds", None)
        if not final and cost is not None and cost > ANALYSIS_BUDGET * max(epoch_seconds, 1e-6):
            return  # too dear to do every epoch: the end of the run will show it
        try:
            if self._analyser is None:  # built once (data and model): not part of the per-epoch cost
                from .analysis import RunAnalyser

                seed = int(self.config.get("seed") or self.graph.training.get("seed") or 0)
                self._analyser = RunAnalyser(self.graph, self.graph.data, seed, self.root)
            started = time.perf_counter()
            self._analyser.load(weights)
            results = self._analyser.results(epoch)
        except Exception as exc:  # a result we cannot draw must not end the run
            self.buffer.put({"type": "results_error", "message": f"{type(exc).__name__}: {exc}"})
            self._analysis_seconds = float("inf")
            return
        self._analysis_seconds = time.perf_counter() - started
        self._analysed_step = step
        self.buffer.put({"type": "results", "results": results, "weights": str(weights),
                         "seconds": self._analysis_seconds})
