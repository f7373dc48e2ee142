"""training: the graph decides the regime; data comes as named fields; metrics stream as events.

    from training import train, RunControl
    result = train(graph, {"epochs": 3}, on_event=print, stop=RunControl())

No Qt here. torch is imported when a run starts, not when this package is imported.
See docs/architecture.md ("training") for the event dicts and the run directory.
"""

from __future__ import annotations

from .config import ConfigError, RuntimePlan, TrainConfig, pick_device, plan_runtime
from .control import EVENT_TYPES, RunControl, RunResult
from .datasets import DataError, FieldDataset, FieldInfo, PreparedData, prepare
from .task import BindingError, Task, analyse, bind


def train(*args, **kwargs) -> RunResult:  # noqa: D103 (documented on engine.train)
    from .engine import train as _train

    return _train(*args, **kwargs)


train.__doc__ = "Train a graph; see training.engine.train (imported lazily: it needs torch)."

__all__ = [
    "EVENT_TYPES", "BindingError", "ConfigError", "DataError", "FieldDataset", "FieldInfo",
    "PreparedData", "RunControl", "RunResult", "RuntimePlan", "Task", "TrainConfig", "analyse",
    "bind", "pick_device", "plan_runtime", "prepare", "train",
]
