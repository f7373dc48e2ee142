"""The engine process's side: serves train, stop, pause, resume, feature_maps, devices,
export_onnx and exit.

The designer's GUI process never imports torch. Everything that does (training, the results
panel's figures, feature maps, the CUDA device list, a recorded run's ONNX export) runs here,
in a child process started by engine_process.py with the "spawn" method and a duplex pipe.
Four threads share the work (a `warm` command has the main thread import torch and the
engine before the first run asks for them):

- the reader (a daemon thread) receives commands; stop, pause and resume act at once on the
  live run's `RunControl`, so a busy training step never delays them;
- the main thread trains, one run after another (`TrainingJob`, worker.py), so torch sees the
  same main-thread set-up as `netwright train`;
- a helper thread answers feature-map, device and ONNX-export requests, so they need not wait
  for a run;
- the sender (a daemon thread) empties the outbox into the pipe in batches, so neither the
  training nor the helper ever blocks on the GUI reading its end.

When the pipe closes (the window went away, or the whole GUI process died) the live run is
stopped (it keeps its last checkpoint) and the process exits: no orphans. No Qt is imported
here or by anything this module imports; a test checks that in a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import graph_core as gc

from .worker import TrainingJob

EXIT_GRACE_S = 60.0  # after the pipe closed, a run gets this long to stop before the process quits
# The engine runs at a lower CPU priority, so the window gets a core at once when both want
# one (on a 2-core VM: stalls while training 13-51 ms instead of 76-268 ms). On an idle machine
# training gets the same CPU; it yields only to busier foreground work. 0 turns it off.
ENGINE_NICE = 5
WARM = "warm"  # queued for the main thread: get ready for the first run
# The sender gathers events this long after the first one: the window reads its pipe 10 times
# a second (controller.DRAIN_HZ), so sending more often only wakes this thread (and takes the
# GIL from the training thread) more often; at 10 ms a fast model woke it ~100 times a second.
BATCH_WINDOW_S = 0.05


def main(conn: Any) -> None:
    """The engine process's entry point (the target of `multiprocessing.Process`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the GUI to handle
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no os.nice on Windows
        os.nice(int(os.environ.get("NETWRIGHT_ENGINE_NICE", ENGINE_NICE)))
    if "fork" in multiprocessing.get_all_start_methods():
        # This process was spawned, so its children would be too. The DataLoader workers that
        # decode a streamed dataset fork from here instead, as under `netwright train`: a
        # spawned worker imports torch again, seconds before its first batch.
        multiprocessing.set_start_method("fork", force=True)
    Engine(conn).serve()
    # Everything is sent and every run has ended (its files written and closed): skip the
    # interpreter's tear-down, which takes a second or more once torch is loaded.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve_in_thread(conn: Any) -> None:
    """The same commands served from a thread of the GUI's process (the benchmark's old design)."""
    Engine(conn).serve()


def cuda_devices() -> list[str]:
    """Names of the CUDA devices torch can use here ([] without a usable GPU or driver)."""
    try:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return [torch.cuda.get_device_name(i) for i in range(count)]
    except Exception:  # no usable torch or driver: CPU only
        return []


def _warm_up() -> float:
    """Get ready for the first run (seconds it took): import torch (a second or two alone), the
    engine, codegen and scikit-learn's datasets (the built-ins' loader), run one tiny
    convolution forward and backward (torch's CPU kernels and autograd) and build an optimizer
    (whose first construction imports torch._dynamo): the first run's setup drops from about
    2 s to 0.2 s."""
    started = time.perf_counter()
    import sklearn.datasets  # noqa: F401
    import torch

    import codegen  # noqa: F401
    import training.engine  # noqa: F401

    x = torch.zeros(2, 1, 8, 8, requires_grad=True)
    torch.nn.functional.conv2d(x, torch.ones(4, 1, 3, 3)).sum().backward()
    torch.optim.Adam([x])  # an optimizer's first construction imports torch._dynamo (~1.8 s)
    return time.perf_counter() - started


def _export_onnx(message: dict[str, Any]) -> tuple[bool, str]:
    """Export a recorded run's model with its weights to ONNX, verified in onnxruntime."""
    name, path = message["name"], message["path"]
    try:
        from codegen import export_onnx

        report = export_onnx(gc.graph_from_dict(message["graph"]), path, weights=message["weights"])
        return True, (f"Exported {path} from run {name} "
                      f"(onnxruntime matches PyTorch to {report.max_abs_diff:.1e})")
    except Exception as exc:  # shown to the user; the engine must not die of a failed export
        return False, f"ONNX export of run {name} failed: {exc}"


def _pretrained_report(message: dict[str, Any]) -> tuple[bool, list[str], dict[str, Any] | None]:
    """Load the graph's pretrained weights file (training.init_weights) into its compiled model,
    as a run would: the first line says what was loaded, then one line per key that did not fit.
    With the lines comes the key map's table (codegen.key_map.key_table) when the file is readable."""
    try:
        from codegen import compile_graph
        from training.pretrained import load_pretrained

        graph = gc.graph_from_dict(message["graph"])
        model = compile_graph(graph)
        table = _key_table(model, graph, message.get("root"))
        lines = load_pretrained(model, graph, message.get("root"))
        return True, [ln for text in lines for ln in text.splitlines() if ln.strip()] or ["nothing to load"], table
    except Exception as exc:  # shown in the inspector; the engine must not die of a bad file
        return False, [str(exc)], None


def _key_table(model: Any, graph: gc.Graph, root: str | None) -> dict[str, Any] | None:
    """The key map of the graph's weights file against `model` (None without a readable file)."""
    from codegen import WeightsError
    from codegen.key_map import key_table
    from codegen.weights import read_state

    spec = graph.training.get("init_weights")
    if not isinstance(spec, dict) or not spec.get("path"):
        return None
    path = Path(str(spec["path"])).expanduser()
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    try:
        return key_table(model, graph, read_state(path))
    except WeightsError:
        return None  # load_pretrained says why, in the report's lines


class Engine:
    """The command loop of one engine process.

    Args:
        conn: this process's end of the duplex pipe (a multiprocessing Connection).
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.outbox: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.runs: queue.SimpleQueue[Any] = queue.SimpleQueue()  # TrainingJob, WARM or None
        self.requests: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.job: TrainingJob | None = None
        self._analysers: dict[Path, Any] = {}
        self._lock = threading.Lock()  # the analyser cache, shared by the helper and main threads

    def serve(self) -> None:
        """Run until told to exit or the pipe closes; returns when the last run has ended."""
        sender = threading.Thread(target=self._send_loop, name="engine-sender", daemon=True)
        reader = threading.Thread(target=self._read_loop, name="engine-reader", daemon=True)
        helper = threading.Thread(target=self._helper_loop, name="engine-helper", daemon=True)
        for thread in (sender, reader, helper):
            thread.start()
        while (job := self.runs.get()) is not None:
            if job is WARM:
                self.outbox.put({"type": "warm", "seconds": _warm_up()})
                continue
            job.run()
            with self._lock:  # its weights changed since an analyser loaded them
                self._analysers.pop(Path(str(job.config.get("out"))), None)
            self.job = None
        self.outbox.put(None)
        sender.join(timeout=5)

    # ---- reader thread ---------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the GUI went away: stop cleanly, keep the checkpoint
                message = {"cmd": "exit"}
            if not self._handle(message):
                return

    def _handle(self, message: dict[str, Any]) -> bool:
        """Act on one command; False once told to exit."""
        cmd = message.get("cmd")
        job = self.job
        if cmd == "train":
            self.job = TrainingJob(gc.graph_from_dict(message["graph"]), message["config"],
                                   self.outbox.put, message.get("root"), message.get("analyse", True))
            self.runs.put(self.job)
        elif cmd == "stop" and job is not None:
            job.stop(bool(message.get("skip_results")))
        elif cmd == "pause" and job is not None:
            job.control.pause()
        elif cmd == "resume" and job is not None:
            job.control.resume()
        elif cmd == "warm":  # on the main thread, where the runs will use torch
            self.runs.put(WARM)
        elif cmd in ("feature_maps", "devices", "export_onnx", "explain", "pretrained"):
            self.requests.put(message)
        elif cmd == "exit":
            if job is not None:
                job.stop(skip_results=True)
                watchdog = threading.Timer(EXIT_GRACE_S, os._exit, (1,))
                watchdog.daemon = True
                watchdog.start()
            self.requests.put(None)
            self.runs.put(None)
            return False
        return True

    # ---- sender thread ---------------------------------------------------------------------

    def _send_loop(self) -> None:
        done = False
        while not done:
            batch = [self.outbox.get()]
            time.sleep(BATCH_WINDOW_S)
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self.outbox.get_nowait())
            done = None in batch
            events = [e for e in batch if e is not None]
            if events and not self._send(events):
                return

    def _send(self, events: list[dict[str, Any]]) -> bool:
        """Send a batch; an event that cannot be pickled is replaced by an error. False: pipe gone."""
        try:
            self.conn.send(events)
            return True
        except (BrokenPipeError, EOFError, OSError):
            return False
        except Exception:  # pickling failed before anything was written: find the culprit
            for event in events:
                try:
                    self.conn.send([event])
                except (BrokenPipeError, EOFError, OSError):
                    return False
                except Exception as exc:
                    kind = "results_error" if event.get("type") == "results" else "error"
                    self.conn.send([{"type": kind, "message": f"cannot send {event.get('type')} "
                                                              f"to the window: {exc}", "issues": []}])
            return True

    # ---- helper thread ---------------------------------------------------------------------

    def _helper_loop(self) -> None:
        while (message := self.requests.get()) is not None:
            if message["cmd"] == "devices":
                self.outbox.put({"type": "devices", "names": cuda_devices()})
            elif message["cmd"] == "export_onnx":
                ok, text = _export_onnx(message)
                self.outbox.put({"type": "onnx_exported", "ok": ok, "message": text})
            elif message["cmd"] == "pretrained":
                ok, lines, table = _pretrained_report(message)
                self.outbox.put({"type": "pretrained_report", "ok": ok, "lines": lines, "table": table})
            elif message["cmd"] == "explain":
                from .explain_engine import explain_request

                self.outbox.put(explain_request(message))
            else:
                maps, text = self._feature_maps(Path(message["run_dir"]), message["node"],
                                                int(message["sample"]), message.get("root"))
                self.outbox.put({"type": "feature_maps", "request": message.get("request"),
                                 "maps": maps, "message": text})

    def _feature_maps(self, run_dir: Path, node: str, sample: int, root: str | None) -> tuple[Any, str]:
        """One conv node's maps on one sample, from the run's checkpoint; (None, why) if none."""
        try:
            weights = next((run_dir / n for n in ("last.safetensors", "best.safetensors")
                            if (run_dir / n).exists()), None)
            if weights is None:
                return None, "No checkpoint yet: the first one is written at the end of the first epoch."
            with self._lock:
                analyser = self._analyser_for(run_dir, root)
                analyser.load(weights)
                return analyser.feature_maps(node, sample), ""
        except Exception as exc:  # shown in the tab, never a crash
            return None, f"Could not compute feature maps: {exc}"

    def _analyser_for(self, run_dir: Path, root: str | None) -> Any:
        """A RunAnalyser for a run folder (one cached: the latest run folder asked about)."""
        if run_dir not in self._analysers:
            import json

            from .analysis import RunAnalyser

            graph = gc.load_graph(run_dir / "graph.json")
            config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
            seed = int(config.get("seed") or 0)
            self._analysers = {run_dir: RunAnalyser(graph, graph.data, seed, root)}
        return self._analysers[run_dir]
