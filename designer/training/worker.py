"""One training run inside the engine process: `training.train` plus the results panel's figures.

`TrainingJob` runs in the engine process (engine_child.py), never in the GUI process: it calls
`training.train`, hands every event to `send` (a queue that a sender thread empties into the
pipe, so training never waits on the GUI) and computes the results that need a model forward
(confusion matrix, predictions, latent map) with `RunAnalyser` after an epoch's checkpoint
when they cost little next to the epoch (`ANALYSIS_BUDGET`), and always at the end of the run.
Results travel as events in the same stream, so the GUI sees everything in order.

No Qt here: this module is imported by the engine process, which must not load PySide6.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graph_core as gc

# Per-epoch results are skipped when computing them would take more than this share of the
# epoch's time: training throughput matters more than a live confusion matrix.
ANALYSIS_BUDGET = 0.05

Send = Callable[[dict[str, Any]], None]


class TrainingJob:
    """One training run (in the engine process).

    Args:
        graph: the graph to train (the engine process's own copy, unpickled from the pipe).
        config: TrainConfig overrides (epochs, batch_size, lr, device, out, ...).
        send: called with every event for the GUI, on the training thread; must not block.
        root: folder relative dataset paths are resolved against (the graph file's folder).
        analyse: compute the results panel's figures (off in the throughput benchmark).

    `control` pauses, resumes and stops the run; `run()` trains and ends with the event
    `{"type": "finished", "result": RunResult | None}`.
    """

    def __init__(self, graph: gc.Graph, config: dict[str, Any], send: Send,
                 root: str | Path | None = None, analyse: bool = True) -> None:
        from training import RunControl

        self.graph = graph
        self.config = dict(config)
        self.send = send
        self.root = Path(root) if root else None
        self.analyse = analyse
        self.control = RunControl()
        self.result: Any = None
        self.skip_results = False  # set when the window closes: finish fast
        self._analyser: Any = None
        self._analysed_step = -1
        self._analysis_seconds: float | None = None
        self._epoch_started = time.perf_counter()
        self._last_epoch = 0

    def stop(self, skip_results: bool = False) -> None:
        """Ask the run to stop after the current step (it keeps its last checkpoint)."""
        self.skip_results = self.skip_results or skip_results
        self.control.stop()

    def run(self) -> Any:
        """Train, send the final results and the `finished` event; returns the RunResult."""
        from training import train

        result = None
        try:
            result = train(self.graph, self.config, on_event=self._on_event, stop=self.control,
                           root=self.root)
        except Exception as exc:  # the engine reports expected failures itself; this is a bug
            self.send({"type": "error", "message": f"{type(exc).__name__}: {exc}", "issues": [],
                       "traceback": traceback.format_exc()})
        self.result = result
        if result is not None and result.last_checkpoint is not None and not self.skip_results:
            self._results(Path(result.last_checkpoint), result.steps, result.epochs, final=True)
        self.send({"type": "finished", "result": result})
        return result

    # ---- training thread -------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "step":  # when the engine made it, on the clock every process shares (latency)
            event["emitted"] = time.monotonic()
        self.send(event)
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
        cost = self._analysis_seconds
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
            self.send({"type": "results_error", "message": f"{type(exc).__name__}: {exc}"})
            self._analysis_seconds = float("inf")
            return
        self._analysis_seconds = time.perf_counter() - started
        self._analysed_step = step
        self.send({"type": "results", "results": results, "weights": str(weights),
                   "seconds": self._analysis_seconds})
