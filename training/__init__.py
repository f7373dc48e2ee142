"""training: the graph decides the regime; data comes as named fields; metrics stream as events.

    from training import train, RunControl
    result = train(graph, {"epochs": 3}, on_event=print, stop=RunControl())

Before a run, `check_data(graph, describe(graph.data))` lists what does not fit the data (with
one-click fixes) without building it; `bind` raises the same lines at train time.

No Qt here. torch is imported when a run starts, not when this package is imported.
See docs/architecture.md ("training") for the event dicts and the run directory.
"""

from __future__ import annotations

from .binding import Change, DataIssue, Fix, check_data
from .config import ConfigError, RuntimePlan, TrainConfig, pick_device, plan_runtime
from .control import EVENT_TYPES, RunControl, RunResult
from .datasets import (
    DataError,
    DataSchema,
    FieldDataset,
    FieldInfo,
    PreparedData,
    describe,
    prepare,
)
from .task import BindingError, Task, analyse, bind, collect


def train(graph, config=None, on_event=None, stop=None, root=None) -> RunResult:
    """Train a graph; see `training.engine.train` (imported on first call: it needs torch).

    Args:
        graph: a valid graph; its `training` section gives the defaults.
        config: overrides (a dict of TrainConfig keys, or a TrainConfig).
        on_event: called with every event dict on the training thread.
        stop: a RunControl, a threading.Event or a callable returning True to stop.
        root: the folder relative dataset paths are resolved against.
    """
    from .engine import train as _train

    return _train(graph, config, on_event, stop, root)


__all__ = [
    "EVENT_TYPES", "BindingError", "Change", "ConfigError", "DataError", "DataIssue", "DataSchema",
    "FieldDataset", "FieldInfo", "Fix", "PreparedData", "RunControl", "RunResult", "RuntimePlan",
    "Task", "TrainConfig", "analyse", "bind", "check_data", "collect", "describe", "pick_device",
    "plan_runtime", "prepare", "train",
]
