"""The GUI's handle on the engine process: start it on demand, send commands, poll its events.

`EngineProcess` starts engine_child.py's `main` in a child process ("spawn": a fresh
interpreter that imports neither Qt nor anything of the window) on the first command that needs
it: the first Train, the first device-list popup, the first feature-map request. It stays alive
between runs, so the second Train and every feature map skip the torch import. Nothing here
blocks the GUI thread: commands are small pickled dicts, and `poll()` only reads what has
already arrived (`Connection.poll()` first). Events come in batches (lists of event dicts).

A child that dies (killed, segfault, out of memory) shows up in `poll()` as one
`{"type": "engine_died", "exitcode": N}` event; the next command starts a fresh process. The
child is not a daemon process, because a daemon may not start processes and the DataLoader
workers that decode a streamed dataset are its children; it still never outlives the window's
process: it exits by itself when the pipe closes (the window's process died), and at a normal
exit `close` ends it before multiprocessing would wait for it. `in_thread=True` serves the same
commands from a thread of this process instead (the old design, kept for the benchmark's
comparison).

No Qt here: the controller drives this from its drain timer.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import multiprocessing
import sys
import threading
import time
import types
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graph_core as gc

CLOSE_TIMEOUT_S = 10.0  # how long `close` waits for the process to exit before terminating it
MAX_BATCHES_PER_POLL = 500  # the engine sends a batch per ~10 ms: a tick reads ~10 of them


class EngineProcess:
    """One engine (a child process) serving one window.

    Args:
        in_thread: serve from a thread of this process (benchmark comparison only).
    """

    def __init__(self, in_thread: bool = False) -> None:
        self.in_thread = in_thread
        self.process: Any = None  # the multiprocessing.Process, or the thread when in_thread
        self._conn: Any = None
        self._pending: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.starts = 0  # processes started so far (a fresh one after each death)

    # ---- life cycle --------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._conn is not None and self.process is not None and self.process.is_alive()

    @property
    def pid(self) -> int | None:
        return None if self.in_thread or self.process is None else self.process.pid

    def ensure_started(self) -> None:
        """Start the engine unless one is running (a few ms: the child imports in its own time)."""
        if self.alive:
            return
        self._drop()
        from .engine_child import main, serve_in_thread

        if self.in_thread:
            ours, theirs = multiprocessing.Pipe(duplex=True)
            self.process = threading.Thread(target=serve_in_thread, args=(theirs,), name="engine",
                                            daemon=True)
            self.process.start()
        else:
            ctx = multiprocessing.get_context("spawn")
            ours, theirs = ctx.Pipe(duplex=True)
            self.process = ctx.Process(target=main, args=(theirs,), name="netwright-engine")
            with _main_module_hidden():
                self.process.start()
            _close_at_exit(self)
            theirs.close()  # ours alone stays open here, so the child sees EOF when we go
        self._conn = ours
        self.starts += 1

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Ask the engine to exit (a live run stops, keeping its checkpoint); wait, then end it."""
        if self.process is None:
            return
        self._send({"cmd": "exit"})
        self.process.join(timeout)
        if not self.in_thread and self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(2.0)
        self._drop()

    # ---- commands ----------------------------------------------------------------------------

    def train(self, graph: gc.Graph, config: dict[str, Any], root: str | Path | None = None,
              analyse: bool = True) -> EngineRun:
        """Start a run of `graph` (a snapshot travels; later edits cannot race it)."""
        self.ensure_started()
        run = EngineRun(self, next(self._ids))
        self._send({"cmd": "train", "graph": gc.graph_to_dict(graph), "config": dict(config),
                    "root": str(root) if root else None, "analyse": analyse})
        return run

    def feature_maps(self, run_dir: Path, node: str, sample: int, root: str | Path | None) -> int:
        """Ask for a conv node's maps; the answer is a `feature_maps` event with this request id."""
        self.ensure_started()
        request = next(self._ids)
        self._send({"cmd": "feature_maps", "request": request, "run_dir": str(run_dir), "node": node,
                    "sample": sample, "root": str(root) if root else None})
        return request

    def explain(self, params: dict[str, Any]) -> int:
        """Ask for one explanation (explain_engine.py); the answer is an `explained` event."""
        self.ensure_started()
        request = next(self._ids)
        self._send({"cmd": "explain", "request": request, **params})
        return request

    def export_onnx(self, graph: gc.Graph, path: str, weights: str | Path, name: str) -> None:
        """Export a run's model with its weights; the answer is an `onnx_exported` event."""
        self.ensure_started()
        self._send({"cmd": "export_onnx", "graph": gc.graph_to_dict(graph), "path": str(path),
                    "weights": str(weights), "name": name})

    def pretrained(self, graph: gc.Graph, root: str | Path | None) -> None:
        """Load the graph's pretrained weights file into its model; answered by a
        `pretrained_report` event (ok, lines)."""
        self.ensure_started()
        self._send({"cmd": "pretrained", "graph": gc.graph_to_dict(graph), "root": str(root) if root else None})

    def warm(self) -> None:
        """Start the engine and have it import what a run needs (torch, the engine, codegen)
        now, so the first Train starts at once; answered by a `warm` event."""
        self.ensure_started()
        self._send({"cmd": "warm"})

    def devices(self) -> None:
        """Ask for the CUDA devices; the answer is a `devices` event with their names."""
        self.ensure_started()
        self._send({"cmd": "devices"})

    def control(self, cmd: str, **info: Any) -> None:
        """stop / pause / resume the live run (ignored by the engine when none is live)."""
        if self._conn is not None:
            self._send({"cmd": cmd, **info})

    # ---- events ------------------------------------------------------------------------------

    def poll(self) -> list[dict[str, Any]]:
        """Every event that has arrived, oldest first; never waits."""
        events, self._pending = self._pending, []
        if self._conn is None:
            return events
        try:
            for _ in range(MAX_BATCHES_PER_POLL):  # the rest waits for the next tick
                if not self._conn.poll():
                    break
                events.extend(self._conn.recv())
        except (EOFError, OSError):
            events.append(self._died())
        return events

    def wait_for(self, kind: str, timeout: float) -> bool:
        """Block until an event of `kind` (or the engine's death) arrives; for closing only.

        The events received meanwhile are kept for the next `poll()`.
        """
        deadline = time.monotonic() + timeout
        while self._conn is not None and (left := deadline - time.monotonic()) > 0:
            try:
                if not self._conn.poll(left):
                    return False
                batch = self._conn.recv()
            except (EOFError, OSError):
                self._pending.append(self._died())
                return True
            self._pending.extend(batch)
            if any(e.get("type") == kind for e in batch):
                return True
        return False

    # ---- internals ---------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError):  # the child is gone; poll() reports it
            self._conn.send(message)

    def _died(self) -> dict[str, Any]:
        """The event for a child that went away, with its exit code; forgets the process."""
        code: int | None = 0
        if not self.in_thread and self.process is not None:
            self.process.join(1.0)  # the pipe closes as it exits: reaping takes a moment at most
            code = self.process.exitcode
        self._drop()
        return {"type": "engine_died", "exitcode": code}

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self.process = None


_LIVE: weakref.WeakSet[EngineProcess] = weakref.WeakSet()
_exit_hook = False


def _close_at_exit(engine: EngineProcess) -> None:
    """Have `engine` closed when this process exits normally.

    Registered after multiprocessing's own exit handler (imported by the first start), so it
    runs first: that handler joins non-daemon children without a timeout, and the engine only
    exits once told to or once its pipe closes.
    """
    global _exit_hook
    if not _exit_hook:
        atexit.register(_close_all)
        _exit_hook = True
    _LIVE.add(engine)


def _close_all() -> None:
    for engine in list(_LIVE):
        engine.close(timeout=2.0)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Keep "spawn" from re-running the parent's `__main__` in the engine process.

    multiprocessing's spawn imports the parent's main script in the child (as `__mp_main__`) so
    that pickled functions defined there resolve. The engine's target lives in a package, so
    that import is never needed, and it is harmful: a user's script that builds a MainWindow
    without an `if __name__ == "__main__":` guard would open a second window in the child (or
    fail there). For the moment `start()` records what to prepare, `__main__` is a bare module,
    as in an interactive session, which spawn leaves alone.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class EngineRun:
    """The live run as the GUI sees it: its id and a `control` that forwards to the engine."""

    def __init__(self, engine: EngineProcess, run_id: int) -> None:
        self.engine = engine
        self.id = run_id
        self.control = RemoteControl(engine)

    def stop(self, skip_results: bool = False) -> None:
        self.control.stop(skip_results)


class RemoteControl:
    """stop / pause / resume sent to the engine, with the switches' state mirrored here."""

    def __init__(self, engine: EngineProcess) -> None:
        self._engine = engine
        self.paused = False
        self.stopped = False

    def stop(self, skip_results: bool = False) -> None:
        self.stopped, self.paused = True, False
        self._engine.control("stop", skip_results=skip_results)

    def pause(self) -> None:
        self.paused = True
        self._engine.control("pause")

    def resume(self) -> None:
        self.paused = False
        self._engine.control("resume")
