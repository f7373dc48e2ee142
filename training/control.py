"""How a caller steers a run (stop, pause, resume) and what it gets back.

The designer runs `train` in a worker thread and keeps a `RunControl`: `stop()` ends training
within one step (the engine looks between steps) and keeps the last checkpoint; `pause()` holds
the worker between steps until `resume()` or `stop()`. `train` also accepts a bare
`threading.Event` or any zero-argument callable as its stop signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENT_TYPES = ("step", "epoch", "samples", "checkpoint", "done", "error", "data")


class RunControl:
    """Thread-safe stop/pause switches shared between a GUI thread and the training worker."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused worker so it can finish

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> None:
        """Block the worker while paused; returns at once when running or stopped."""
        while not self._running.wait(timeout=0.1):
            if self._stop.is_set():
                return

    def __call__(self) -> bool:
        return self.stopped


def as_control(stop: RunControl | threading.Event | Callable[[], bool] | None) -> RunControl:
    """Wrap whatever the caller passed as a stop signal into a RunControl."""
    if isinstance(stop, RunControl):
        return stop
    if stop is None:
        return RunControl()
    check = stop.is_set if isinstance(stop, threading.Event) else stop
    return _PolledControl(check)


class _PolledControl(RunControl):
    def __init__(self, check: Callable[[], bool]) -> None:
        super().__init__()
        self._check = check

    @property
    def stopped(self) -> bool:
        return self._stop.is_set() or bool(self._check())


@dataclass
class RunResult:
    """What a finished run reports.

    Attributes:
        status: completed | stopped (by request) | early_stopped | failed.
        final: the last validation figures (`val_loss`, `val_accuracy`, ...) as `train --json`
            prints them, plus `epochs` and `seconds`.
        history: one dict per epoch (the epoch events' figures).
        error: the message when failed; `issues` the `node-id: message` lines of a setup error.
        notes: things the user should know that did not stop the run (pretrained weights
            loaded, keys that did not fit).
    """

    status: str
    regime: str | None = None
    run_dir: Path | None = None
    final: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    error: str | None = None
    issues: list[str] = field(default_factory=list)
    best_checkpoint: Path | None = None
    last_checkpoint: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def make_event(event_type: str, /, **info: Any) -> dict[str, Any]:
    """An event dict with every standard key present (missing ones empty or None)."""
    event: dict[str, Any] = {"type": event_type, "step": None, "epoch": None, "split": None, "losses": {},
                             "metrics": {}, "throughput": None, "eta": None}
    event.update(info)
    return event
