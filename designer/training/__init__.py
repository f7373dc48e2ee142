"""designer.training: train from the window — panel, live plots, results, runs.

`install(window)` adds the Training, Results and Runs docks and a Training menu to a
`MainWindow` and returns the `TrainingController` (also kept as `window.training`). The
training itself is `training.train`, run on a worker thread (worker.py); nothing here trains.
torch is imported when a run starts, not when the window opens.
"""

from __future__ import annotations

from typing import Any


def install(window: Any) -> Any:
    """Add training to a MainWindow; returns its TrainingController."""
    from .controller import TrainingController

    controller = TrainingController(window)
    window.training = controller
    return controller


__all__ = ["install"]
