"""`netwright train`: train a graph file headless, with a progress bar on stderr.

The same command runs under `torchrun --nproc_per_node=N` (DistributedDataParallel; only rank 0
prints and writes). With `--json` the last line on stdout is one JSON object of final figures.
Ctrl-C once stops cleanly after the current step (the checkpoint is kept); twice aborts.
Exit codes: 0 trained (or stopped on request), 1 the graph/data/config is invalid or training
failed, 2 the file is unreadable.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1
_SHORT = {"accuracy": "acc", "miou": "mIoU", "mae": "mae", "g_loss": "g_loss", "loss": "loss"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a graph file (progress on stderr; --json for a final JSON line)",
        description="Train the network in FILE on the data its 'data' section names (or --dataset). "
                    "Settings come from the file's 'training' section; flags override them. "
                    "Works unchanged under torchrun --nproc_per_node=N.")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train (default auto)")
    p.add_argument("--dataset", metavar="NAME|PATH", help="a built-in dataset name or a data file/folder")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default: runs/<name>-<time> beside FILE)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its last checkpoint, with its lr, epochs and schedule "
                        "unless given again: a new --lr or --schedule restarts the schedule from that lr over the "
                        "remaining epochs, new --epochs extend a cosine schedule to the new end")
    p.add_argument("--json", action="store_true", help="end with one JSON line of final metrics on stdout")
    p.add_argument("--batch-size", type=int, help="samples per step (per process under torchrun)")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--schedule", choices=("none", "step", "cosine"), help="learning-rate schedule")
    p.add_argument("--seed", type=int, help="random seed (same seed, same curve on CPU)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps in all (quick checks)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    from netwright.cmd_graph import load_or_exit

    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    from graph_core import one_line
    from training import RunControl, train

    overrides = {"epochs": args.epochs, "device": args.device, "dataset": _dataset(args.dataset),
                 "out": args.out, "resume": args.resume, "batch_size": args.batch_size,
                 "lr": args.lr, "schedule": args.schedule, "seed": args.seed, "max_steps": args.max_steps}
    rank0 = int(os.environ.get("RANK", "0")) == 0
    control = RunControl()
    progress = Progress(sys.stderr, enabled=rank0 and not args.quiet)
    restore = _stop_on_interrupt(control)
    try:
        result = train(graph, overrides, on_event=progress.handle, stop=control,
                       root=Path(args.file).resolve().parent)
    finally:
        restore()
    progress.close()
    if not rank0:
        return 0 if result.ok else 1
    for note in result.notes:
        print(one_line(note), file=sys.stderr)
    if not result.ok:
        for line in result.issues or [result.error or "training failed"]:
            print(one_line(line), file=sys.stderr)
    else:
        where = f" -> {result.run_dir}" if result.run_dir else ""
        print(f"{result.status}: {result.epochs} epochs, {result.steps} steps in "
              f"{result.seconds:.1f} s{where}", file=sys.stderr)
    if args.json:
        line = dict(result.final) if result.ok else {"status": "failed", "error": result.error}
        if result.ok:
            line.setdefault("epochs", result.epochs)
            line.setdefault("seconds", result.seconds)
            line["status"] = result.status
        print(json.dumps(_finite(line)), flush=True)
    return 0 if result.ok else 1


def _dataset(value: str | None) -> str | None:
    # A path given on the command line is relative to where the user stands, not to FILE.
    if value and os.path.exists(value):
        return str(Path(value).resolve())
    return value


def _stop_on_interrupt(control: Any) -> Any:
    """First Ctrl-C: stop after this step and keep the checkpoint; second: abort."""
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        if control.stopped:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl-C again to abort)", file=sys.stderr)
        control.stop()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        return lambda: None
    return lambda: signal.signal(signal.SIGINT, previous)


class Progress:
    """Renders training events as a one-line bar (a TTY) or a line per epoch (logs, pipes)."""

    def __init__(self, stream: Any, enabled: bool = True) -> None:
        self.stream, self.enabled = stream, enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last_draw = 0.0
        self.metric: tuple[str, float] | None = None
        self.open_line = False

    def handle(self, event: dict[str, Any]) -> None:
        if not self.enabled:
            return
        kind = event["type"]
        if kind == "step" and self.tty:
            now = time.monotonic()
            if now - self.last_draw >= REDRAW_SECONDS or event.get("epoch_step") == event.get("epoch_steps"):
                self.last_draw = now
                self._write("\r" + self.bar(event) + "\x1b[K", newline=False)
        elif kind == "epoch":
            self._write(("\r\x1b[K" if self.open_line else "") + self.epoch_line(event))
        elif kind == "data":
            self.data_line(event)

    def data_line(self, e: dict[str, Any]) -> None:
        """A large dataset's first pass (listing files, reading headers): redrawn on a TTY, and
        one line per finished stage in a log."""
        total = e.get("total")
        text = f"data: {e.get('stage')} {e.get('done')}" + (f"/{total}" if total else "")
        if self.tty:
            self._write("\r" + text + "\x1b[K", newline=False)
        elif total and e.get("done") == total:
            self._write(text)

    def bar(self, e: dict[str, Any]) -> str:
        done, total = e.get("epoch_step") or 0, e.get("epoch_steps") or 1
        filled = int(BAR_WIDTH * done / total)
        bits = [f"epoch {e['epoch']} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total}"]
        losses = e.get("losses") or {}
        if "loss" in losses:
            bits.append(f"loss {losses['loss']:.4f}")
        if "g_loss" in losses:
            bits.append(f"d {losses['d_loss']:.3f} g {losses['g_loss']:.3f}")
        if self.metric:
            bits.append(f"{_SHORT.get(self.metric[0], self.metric[0])} {self.metric[1]:.4f}")
        if e.get("throughput"):
            bits.append(f"{e['throughput']:,.0f} samples/s")
        if e.get("eta") is not None:
            bits.append(f"ETA {format_seconds(e['eta'])}")
        return "  ".join(bits)

    def epoch_line(self, e: dict[str, Any]) -> str:
        train = e.get("train") or {}
        bits = [f"epoch {e['epoch']}/{e.get('epochs', '?')}"]
        tl = (train.get("losses") or {}).get("loss")
        if tl is not None:
            bits.append(f"train loss {tl:.4f}")
        for name, value in (e.get("losses") or {}).items():
            if name in ("loss", "reconstruction", "kl", "d_loss", "g_loss"):
                bits.append(f"val {name} {value:.4f}")
        for name, value in (e.get("metrics") or {}).items():
            if "." not in name:
                bits.append(f"val {name} {value:.4f}")
        metric = e.get("monitor", "")[4:]
        value = (e.get("metrics") or {}).get(metric, (e.get("losses") or {}).get(metric))
        self.metric = (metric, value) if value is not None else None
        if e.get("throughput"):
            bits.append(f"{e['throughput']:,.0f} samples/s")
        return ", ".join(bits)

    def _write(self, text: str, newline: bool = True) -> None:
        self.stream.write(text + ("\n" if newline else ""))
        self.stream.flush()
        self.open_line = not newline

    def close(self) -> None:
        if self.enabled and self.open_line:
            self._write("")


def format_seconds(seconds: float) -> str:
    """ETA as m:ss or h:mm:ss."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _finite(data: dict[str, Any]) -> dict[str, Any]:
    """NaN and inf are not JSON: report them as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()}
