"""designer.training: train from the window — panel, live plots, results, runs.

`install(window)` adds the Training, Results and Runs docks and a Training menu to a
`MainWindow` and returns the `TrainingController` (also kept as `window.training`). The
training itself is `training.train`, run in the engine child process (engine_process.py,
engine_child.py, worker.py); the window's process never imports torch.
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
