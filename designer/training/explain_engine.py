"""The engine process's side of the Explain tab: one explanation per request, drawn as a PNG.

Runs in the engine child (engine_child.py's helper thread), never in the window's process: it
imports torch, Captum and matplotlib through `explain`. The answer is a plain dict (PNG bytes,
the figures, the class names and convolutions for the tab's lists), cheap to pickle. The last
run's `Subject` (compiled model, weights, prepared data) is kept, so trying another method or
sample on the same run skips the set-up; a run whose weights changed is loaded afresh.
No Qt here.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import graph_core as gc

_cache: dict[tuple, Any] = {}
_lock = threading.Lock()


def explain_request(message: dict[str, Any]) -> dict[str, Any]:
    """Answer one `explain` command with an `explained` event (an error is a message, not a crash)."""
    answer: dict[str, Any] = {"type": "explained", "request": message.get("request"), "pid": os.getpid(),
                              "png": None, "summary": None, "classes": [], "layers": [], "message": ""}
    try:
        from explain import ExplainError, explain, render
        from explain.inputs import read_input

        with _lock:
            subject = _subject(Path(message["run_dir"]), message.get("root"))
            answer["classes"] = list(subject.class_names)
            answer["layers"] = subject.conv_layers()
            values = read_input(subject, message["input"]) if message.get("input") else None
            result = explain(subject, message["method"], sample=message.get("sample"), values=values,
                             target=message.get("target"), layer=message.get("layer"),
                             pixel=message.get("pixel"))
            answer["png"] = render(result, dpi=90, scale=0.6)  # the Results dock is ~450 px wide
        summary = result.to_dict()
        answer["summary"] = {k: v for k, v in summary.items() if k != "deletion"} | {
            "area": result.deletion.area, "random_area": result.deletion.random_area}
    except ExplainError as exc:
        answer["message"] = str(exc)
    except Exception as exc:  # shown in the tab; the engine must not die of one explanation
        answer["message"] = f"Could not explain: {type(exc).__name__}: {exc}"
    return answer


def _subject(run_dir: Path, root: str | None) -> Any:
    from explain import ExplainError, load_subject

    weights = next((run_dir / n for n in ("best.safetensors", "last.safetensors") if (run_dir / n).exists()), None)
    if weights is None:
        raise ExplainError("No checkpoint yet: the first one is written at the end of the first epoch.")
    key = (run_dir, root, weights, weights.stat().st_mtime_ns)
    if key not in _cache:
        graph = gc.load_graph(run_dir / "graph.json")  # the graph as trained, whatever the canvas says now
        _cache.clear()
        _cache[key] = load_subject(graph, run_dir, root=root)
    return _cache[key]
