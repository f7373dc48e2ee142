"""The weights a graph names to start from (`training.init_weights`), copied into its model.

The engine loads them before the first step; the designer's engine process runs the same
function when the user presses Check in the pretrained-weights box, so both report alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import graph_core as gc

from .config import ConfigError


def load_pretrained(net: Any, graph: gc.Graph, root: str | Path | None) -> list[str]:
    """Copy the weights `graph.training["init_weights"]` names into `net` before training.

    Returns the lines to show the user: what was loaded and every key that did not fit.
    A missing or unreadable file is a ConfigError; a file whose keys only partly fit still
    loads what fits (the report says what did not).
    """
    spec = graph.training.get("init_weights")
    if not isinstance(spec, dict):
        return []
    if not spec.get("path"):
        frozen = [n.id for n in graph.nodes.values() if n.frozen]
        if not frozen:
            return []
        return ["no pretrained weights file given (training.init_weights.path): the frozen "
                f"layers ({len(frozen)} nodes) keep their random initial weights"]
    from codegen import WeightsError
    from codegen.pretrained import FORMATS, load_state_dict_by_name

    if spec.get("format", "torchvision_vgg") not in FORMATS:
        raise ConfigError(f"init_weights: unknown format {spec.get('format')!r} (known: {', '.join(FORMATS)})")
    path = Path(str(spec["path"])).expanduser()
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    try:
        report = load_state_dict_by_name(net, graph, path)
    except WeightsError as exc:
        raise ConfigError(f"init_weights: {exc}") from None
    return [f"pretrained weights from {path}: {report}"]
