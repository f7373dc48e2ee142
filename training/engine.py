"""`train`: run the regime a graph implies on its data, streaming events and writing a run directory.

The shape is a blocking call with a callback, made for a worker thread: `on_event(dict)` is
called on the training thread (the designer forwards the dicts to its GUI thread and throttles
its own redraws), and a `RunControl` passed as `stop` stops within one step or pauses between
steps. Expected failures (invalid graph, data that does not fit, NaN loss, out of memory) never
raise: they emit an `error` event and return a `RunResult` with status "failed".
"""

from __future__ import annotations

import math
import random
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import graph_core as gc

from . import distributed
from .config import ConfigError, TrainConfig, pick_device, plan_runtime
from .control import RunControl, RunResult, as_control, make_event
from .metrics import MetricAccumulator
from .pretrained import load_pretrained
from .rundir import STATE_FILE, RunDirectory, load_state
from .task import GAN, SEQ2SEQ, BindingError, Task, analyse, bind

EventSink = Callable[[dict[str, Any]], None]
# Losses are read from the device at most REPORTS_PER_EPOCH times per epoch, and at least every
# REPORT_SECONDS (a host clock: reading it costs the device nothing). An epoch of up to
# REPORTS_PER_EPOCH steps reports every step, so a caller's on_event sees step k before step
# k+1 runs (pause and stop from a callback act between those two); a longer epoch already
# reports several steps at once, and then (outside torchrun) at most every REPORT_MIN_SECONDS:
# a report has a fixed cost, about 20 us on the CPU (the stack, the read, the bookkeeping), and
# reporting every 3 steps of the moons MLP's 0.3 ms step cost it 7 us a step. Every step still
# has its event, sent with its report.
REPORTS_PER_EPOCH = 100
REPORT_MIN_SECONDS = 0.05
REPORT_SECONDS = 0.5
STEP_ROWS_BUFFER = 1024


class TrainingFailure(Exception):
    """A failure with a message meant for the user (NaN loss, out of memory)."""


def train(graph: gc.Graph, config: TrainConfig | dict[str, Any] | None = None,
          on_event: EventSink | None = None,
          stop: RunControl | threading.Event | Callable[[], bool] | None = None,
          root: str | Path | None = None) -> RunResult:
    """Train a graph on the data its `data` section names.

    Args:
        graph: a valid graph; its `training` section gives the defaults.
        config: overrides (a dict of TrainConfig keys, or a TrainConfig).
        on_event: called with every event dict (types: step, epoch, samples, checkpoint, done,
            error); under torchrun only on rank 0.
        stop: a RunControl (stop/pause/resume), a threading.Event or a callable returning True
            to stop; checked between steps.
        root: the folder relative dataset paths are resolved against (the graph file's folder).

    Returns:
        The RunResult; `status` is completed, stopped, early_stopped or failed.
    """
    return TrainingRun(graph, config, on_event, stop, root).execute()


class TrainingRun:
    """One run from setup to summary; `execute` is the whole life cycle."""

    def __init__(self, graph: gc.Graph, config: Any, on_event: EventSink | None, stop: Any,
                 root: str | Path | None) -> None:
        self.graph, self.overrides, self.sink, self.root = graph, config, on_event, root
        self.control = as_control(stop)
        self.ctx = distributed.from_environment()
        self.result = RunResult(status="failed")
        self.rundir: RunDirectory | None = None
        self.step = 0
        self.epoch = 0  # completed epochs
        self.history: list[dict[str, Any]] = []
        self.best: float | None = None
        self.bad_epochs = 0
        self.started = time.perf_counter()
        self.train_seconds = 0.0
        self.step_rows: list[tuple[Any, ...]] = []  # (step, epoch, losses, lr, throughput)
        self._peer_stop = False  # under torchrun: the stop the ranks agreed on at the last report

    # ---- life cycle ------------------------------------------------------------------------

    def execute(self) -> RunResult:
        try:
            self._setup()
        except (BindingError, ConfigError) as exc:
            issues = getattr(exc, "issues", [str(exc)])
            return self._fail(issues[0] if len(issues) == 1 else "the graph cannot train on this data",
                              issues)
        except Exception as exc:  # data errors and anything the user's files provoke
            name = type(exc).__name__
            message = str(exc) if name in ("DataError", "ValueError") else f"{name}: {exc}"
            return self._fail(message, [message], detail=traceback.format_exc())
        try:
            status = self._loop()
            self._finish(status)
        except TrainingFailure as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(self._describe_crash(exc), detail=traceback.format_exc())
        finally:
            self._write_step_rows()  # the steps before a failure
            for feed in (getattr(self, "train_feed", None), getattr(self, "val_feed", None)):
                if feed is not None:
                    feed.close()
            if self.rundir is not None:
                self.rundir.close()
            distributed.teardown(self.ctx)
        return self.result

    def _setup(self) -> None:
        import torch

        from .datasets import prepare

        # a resumed run continues with what it was doing (its config.json) unless told otherwise
        self.previous = _previous_settings(self.overrides)
        self.config = config = TrainConfig.resolve({**self.graph.training, **self.previous}, self.overrides)
        self.task: Task = analyse(self.graph)
        spec = dict(self.graph.data)
        if config.dataset:
            spec["dataset"] = config.dataset
        self.prepared = prepare(spec, seed=config.seed, root=self.root, progress=self._data_progress)
        bind(self.task, self.prepared.info, getattr(self.prepared, "name", "the dataset"))
        if len(self.prepared.train) == 0:
            raise ConfigError("the training split is empty")
        cuda = torch.cuda.is_available()
        mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
        device = distributed.setup(self.ctx, pick_device(config.device, cuda, mps))
        self.device = torch.device(device)
        bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.plan = plan_runtime(config, device, bf16_supported=bf16, has_conv2d=self.task.has_conv2d)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = self.plan.cudnn_benchmark
        self._seed(config.seed)
        self._build_model()
        self._open_run_directory()

    def _vocabularies(self) -> dict[str, list[str]]:
        return vocabularies(getattr(self.prepared, "info", {}) or {})

    def _build_model(self) -> None:
        import torch

        import codegen

        from .feed import Feeder
        from .regimes import GanRegime, HeadRegime

        net = codegen.compile_graph(self.graph)
        if not self.config.resume:
            self.result.notes.extend(load_pretrained(net, self.graph, self.root))
        net = net.to(self.device)
        if self.plan.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        from .seq2seq import Seq2SeqRegime

        regime_class = {GAN: GanRegime, SEQ2SEQ: Seq2SeqRegime}.get(self.task.regime, HeadRegime)
        self.regime = regime_class(self.task, net, self.graph, self.config, self.plan, self.device, self._wrap)
        if self.task.regime == SEQ2SEQ:
            self.regime.vocabulary = self._vocabularies().get(self.regime.head.target_field)
        self.schedulers = [_scheduler(o, self.config) for o in self.regime.optimizers]
        fields = self.task.fields()
        train = self.prepared.train
        workers = self._workers(train)
        # a streamed split is warped in its DataLoader workers (on the host), one in memory on the device
        self.augmenter = self._augmenter(fields, on_host=train.streamed and workers > 0)
        self.train_feed = Feeder(train, fields, self.device, self.plan.channels_last, workers,
                                 self.augmenter, seed=self.config.seed * 1000 + self.ctx.rank)
        val = self.prepared.val if len(self.prepared.val) else train
        self.val_feed = Feeder(val, fields, self.device, self.plan.channels_last, workers)
        self.sampler = torch.utils.data.DistributedSampler(
            train, num_replicas=self.ctx.world, rank=self.ctx.rank, shuffle=True,
            seed=self.config.seed)

    def _workers(self, split: Any) -> int:
        """DataLoader workers for a streamed split: the data section's `workers` (default 2)."""
        if not split.streamed:
            return 0
        from .datasets.core import Options
        from .datasets.lazy import workers_option

        return workers_option(Options(self.graph.data, "data"))

    def _data_progress(self, stage: str, done: int, total: int | None) -> None:
        """A long first pass over the data (an image folder's listing and headers), as events."""
        now = time.perf_counter()
        if total is not None and done < total and now - getattr(self, "_data_reported", 0.0) < 0.2:
            return
        self._data_reported = now
        self._emit(make_event("data", stage=stage, done=done, total=total))

    def _augmenter(self, fields: set[str], on_host: bool = False) -> Any:
        """The training batches' warp for `augment`, or None; refuses data with no image field."""
        mode = self.config.augment
        if mode == "none":
            return None
        from .augment import ImageAugmenter, image_fields

        images, masks = image_fields(self.prepared.info, fields)
        if not images:
            raise ConfigError(f"augment: {mode} warps image fields (channels, height, width), and the "
                              "graph reads none; set augment to none for this data")
        # each process of a torchrun job draws its own warps
        return ImageAugmenter(mode, images, masks, seed=self.config.seed * 1000 + self.ctx.rank,
                              channels_last=self.plan.channels_last and not on_host)

    def _wrap(self, module: Any) -> Any:
        """DDP under torchrun, then torch.compile when asked; parameters stay the module's."""
        import torch

        if self.ctx.active:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            module = DistributedDataParallel(module, device_ids=ids)
        return torch.compile(module) if self.plan.compile else module

    def _open_run_directory(self) -> None:
        c = self.config
        resume = Path(c.resume) if c.resume else None
        if c.out:
            path = Path(c.out)
        elif resume is not None:
            path = resume
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = Path(self.root or ".") / "runs" / f"{_slug(self.graph.name)}-{stamp}"
        self.rundir = RunDirectory(path, enabled=self.ctx.main, append=resume is not None)
        self.result.run_dir = path
        resumed = self._resume_from(resume) if resume is not None else None
        self.rundir.write_json("graph.json", gc.graph_to_dict(self.graph))
        if self._vocabularies():  # token ids mean nothing without their words: keep them with the run
            self.rundir.write_json("vocab.json", self._vocabularies())
        self.rundir.write_json("config.json", {**c.to_dict(), "runtime": self.plan.describe(),
                                               "world_size": self.ctx.world,
                                               "dataset": getattr(self.prepared, "name", None),
                                               **({"resumed": resumed} if resumed else {})})

    def _resume_from(self, resume: Path) -> dict[str, Any]:
        """Load the checkpoint; then apply what this run was told that differs from the last leg.

        One file, last_state.pt, holds the weights with the optimizer state they belong to (an
        older run's weights come from last.safetensors). Settings (docs/reliability.md, "Resuming"):
        a new lr or schedule restarts the schedule from that lr over the remaining epochs; new
        epochs alone extend a cosine schedule to end at the new last epoch; otherwise the
        optimizer and schedule continue exactly.

        Returns:
            What config.json records under "resumed".
        """
        import codegen

        state_file = resume / STATE_FILE
        weights = resume / "last.safetensors"
        if not state_file.exists() and not weights.exists():
            raise ConfigError(f"resume: {resume} has no last.safetensors checkpoint to continue from")
        if not state_file.exists():
            raise ConfigError(f"resume: {resume} has weights but no {STATE_FILE} (optimizer and progress)")
        state = load_state(resume)
        if "model" in state:
            self.net.load_state_dict(state["model"])
        else:  # a run written before the weights moved into the state file
            codegen.load_weights(self.net, weights)
        fresh = [[g["lr"] for g in o.param_groups] for o in self.regime.optimizers]
        self.regime.load_state_dict(state["regime"])
        for sched, sd in zip(self.schedulers, state.get("schedulers", [])):
            if sched is not None:
                sched.load_state_dict(sd)
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.best = state.get("best")
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.history = list(state.get("history", []))
        return self._apply_new_settings(fresh)

    def _apply_new_settings(self, fresh_lrs: list[list[float]]) -> dict[str, Any]:
        c, before = self.config, self.previous
        changed = sorted(k for k in _CONTINUED if k in before and getattr(c, k) != before[k])
        remaining = max(1, c.epochs - self.epoch)
        if {"lr", "schedule", "step_size", "gamma"} & set(changed):
            for opt, lrs in zip(self.regime.optimizers, fresh_lrs):
                for group, lr in zip(opt.param_groups, lrs):
                    group["lr"] = group["initial_lr"] = lr
            self.schedulers = [_scheduler(o, c, remaining) for o in self.regime.optimizers]
            how = f"restarted at lr {c.lr:g} over the remaining {remaining} epochs"
        elif "epochs" in changed and c.schedule == "cosine":
            # re-planned for the new length: from here on the lr is what a cosine over all
            # c.epochs has at this epoch, reaching zero at the new end (never past it)
            for opt, sched in zip(self.regime.optimizers, self.schedulers):
                sched.T_max = c.epochs
                for group, base in zip(opt.param_groups, sched.base_lrs):
                    group["lr"] = sched.eta_min + (base - sched.eta_min) * (
                        1 + math.cos(math.pi * sched.last_epoch / c.epochs)) / 2
                sched._last_lr = [g["lr"] for g in opt.param_groups]
            how = f"cosine extended to end at epoch {c.epochs}"
        else:
            how = "continued"
        return {"at_epoch": self.epoch, "at_step": self.step, "changed": changed, "schedule": how}

    # ---- the loop --------------------------------------------------------------------------

    def _loop(self) -> str:
        c = self.config
        self.steps_per_epoch = len(self._batches(0))
        self.total_steps = self.steps_per_epoch * c.epochs
        if c.max_steps:
            self.total_steps = min(self.total_steps, c.max_steps)
        self.run_start_step = self.step
        while self.epoch < c.epochs:
            epoch_number = self.epoch + 1
            stopped = self._train_epoch(epoch_number, self._batches(self.epoch))
            if stopped:
                self._save_checkpoint(best=False)
                return "stopped"
            # streamed data is large by definition: evaluate in training-sized batches
            eval_batch = c.batch_size if self.val_feed.streamed else max(c.batch_size, 256)
            losses, metrics = self.regime.evaluate(self.val_feed, eval_batch)
            for sched in self.schedulers:
                if sched is not None:
                    sched.step()
            self.epoch = epoch_number
            improved = self._record_epoch(losses, metrics)
            self._save_checkpoint(best=improved)
            self._emit_samples()
            if c.early_stopping and self.bad_epochs >= c.early_stopping:
                return "early_stopped"
            if c.max_steps and self.step >= c.max_steps:
                break
        return "completed"

    def _batches(self, epoch: int) -> list[Any]:
        import torch

        self.sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(self.sampler)), dtype=torch.int64)
        chunks = list(torch.split(order, self.config.batch_size))
        # a final batch of one sample breaks BatchNorm's statistics: fold it away
        if len(chunks) > 1 and len(chunks[-1]) == 1:
            chunks.pop()
        return chunks

    def _train_epoch(self, epoch: int, batches: list[Any]) -> bool:
        """Run one epoch's steps; True when a stop request ended it early.

        Losses stay on the device: each step appends its loss tensor to `pending`, and every
        `report_every` steps (or REPORT_SECONDS, or at the epoch's end) one host read takes them
        all, checks them, and emits the steps' events. So the host reads per epoch are bounded
        whatever the number of steps, and a GPU's queue never waits on a per-step read.
        """
        c = self.config
        self.acc = MetricAccumulator([])
        self.lr_now = self._lr()  # schedules step per epoch, so one read serves the whole epoch
        self.t0 = time.perf_counter()
        self.seen = 0
        steps = len(batches)
        self.report_every = report_every = max(1, math.ceil(steps / REPORTS_PER_EPOCH))
        self.pending: list[tuple[int, int, int, Any, Any]] = []
        control, train_step = self.control, self.regime.train_step
        clocked = not self.ctx.active  # under torchrun every rank must report at the same steps
        max_steps = c.max_steps or math.inf
        last_report = self.t0
        for i, (index, batch) in enumerate(self.train_feed.epoch(batches)):
            if control.paused:  # show every step done before waiting
                self._report(epoch, steps)
                control.wait_if_paused()
            if self._should_stop():
                self._report(epoch, steps)
                self._write_step_rows()
                self.train_seconds += time.perf_counter() - self.t0
                return True
            n = index.shape[0]  # len() of a tensor goes through Python
            self.pending.append((self.step + 1, i + 1, n, index, train_step(batch, n)))
            self.step += 1
            now = time.perf_counter()
            since = now - last_report if clocked else math.inf
            if (len(self.pending) >= report_every and (report_every == 1 or since >= REPORT_MIN_SECONDS)) \
                    or REPORT_SECONDS <= since < math.inf or i + 1 == steps:
                self._report(epoch, steps)
                last_report = now
            if self.step >= max_steps:
                break
        self._report(epoch, len(batches))
        self._write_step_rows()
        self.train_seconds += time.perf_counter() - self.t0
        self.epoch_train = (self.acc.result()[0], self.regime.take_train_metrics(),
                            self.seen / max(time.perf_counter() - self.t0, 1e-9))
        return False

    def _report(self, epoch: int, epoch_steps: int) -> None:
        """Read the pending steps' losses in one go (one all-reduce under torchrun) and emit them."""
        if not self.pending:
            return
        names, slots = self.regime.loss_names, self.regime.loss_slots
        if not self.ctx.active and len(self.pending) == 1:
            values = self.pending[0][-1].tolist()  # one step: no stack
            rows = [values if isinstance(values, list) else [values]]
        else:
            rows = self._read_pending()
        pending, self.pending = self.pending, []
        # one clock reading serves the report's steps (their events leave together)
        elapsed = time.perf_counter() - self.t0
        spent = self.train_seconds + elapsed
        world, lr, count, log = self.ctx.world, self.lr_now, len(pending), self.rundir is not None
        sink = self.sink
        emit = sink is not None and self.ctx.main
        one_value = slots is not None and not any(slots)  # every name has the step's one value
        sums, seen_before = [0.0] * len(rows[0]), self.seen
        for (step, epoch_step, size, index, _), values in zip(pending, rows):
            losses = dict.fromkeys(names, values[0]) if one_value else \
                dict(zip(names, values)) if slots is None else {k: values[j] for k, j in zip(names, slots)}
            if not math.isfinite(sum(values)):  # a nan or an inf anywhere makes the sum one
                self.step = step - 1  # the steps after it are not counted as good ones
                raise TrainingFailure(self._nan_message(index, losses))
            n = size * world
            self.seen += n
            for j, v in enumerate(values):
                sums[j] += v * n
            throughput = self.seen / elapsed if elapsed > 0 else None
            done = step - self.run_start_step
            eta = (self.total_steps - step) * spent / done if done else None
            if emit:  # make_event's keys, written out: this runs once a step
                sink({"type": "step", "step": step, "epoch": epoch, "split": "train", "losses": losses,
                      "metrics": {}, "throughput": throughput, "eta": eta, "epoch_step": epoch_step,
                      "epoch_steps": epoch_steps, "lr": lr, "steps": count})
            if log:  # a row is a dict when it is written (_write_step_rows), not a step
                self.step_rows.append((step, epoch, losses, lr, throughput))
        # the epoch's mean losses: the report's sums, weighted by batch size, added at once
        total = self.seen - seen_before
        values = [v / total for v in sums]
        self.acc.add_losses(dict(zip(names, values)) if slots is None else
                            {k: values[j] for k, j in zip(names, slots)}, total)
        if len(self.step_rows) >= STEP_ROWS_BUFFER:
            self._write_step_rows()

    def _read_pending(self) -> list[list[float]]:
        """The pending steps' losses as floats, a row per step: one read (one all-reduce with
        the stop flag under torchrun, which also sets the stop the ranks agree on)."""
        import torch

        stacked = torch.stack([values for *_, values in self.pending])
        if not self.ctx.active:
            rows = stacked.tolist()
            # a single-loss step's value is 0-d: the stack is one row of them (no reshape kernel)
            return [[v] for v in rows] if stacked.dim() == 1 else rows
        stacked = stacked.reshape(len(self.pending), -1)
        width = stacked.shape[1]
        flat = torch.cat([stacked.double().flatten(),
                          torch.tensor([float(self.control.stopped)], dtype=torch.float64,
                                       device=stacked.device)])
        agreed = distributed.all_agree_tensor(self.ctx, flat)
        self._peer_stop = agreed[-1] > 0
        return [agreed[k * width:(k + 1) * width] for k in range(len(self.pending))]

    def _write_step_rows(self) -> None:
        """Write the buffered per-step rows to steps.csv/jsonl.

        Writing a row between two steps cost the moons MLP about 0.1 ms of its 0.5 ms step
        (benchmarks/bench_training.py), so rows are kept and written together at the epoch's end,
        every STEP_ROWS_BUFFER rows, and when the run ends however it ends (the files were only
        flushed at epoch ends before, so a crash loses no more than it did).
        """
        rows, self.step_rows = getattr(self, "step_rows", []), []
        if self.rundir is not None:
            self.rundir.log_rows("steps", [{"step": step, "epoch": epoch, **losses, "lr": lr, "throughput": throughput}
                                           for step, epoch, losses, lr, throughput in rows])

    def _should_stop(self) -> bool:
        if self.ctx.active:  # the stop the ranks agreed on at the last report, so all stop together
            return self._peer_stop
        return self.control.stopped

    # ---- epoch bookkeeping -----------------------------------------------------------------

    def _record_epoch(self, losses: dict[str, float], metrics: dict[str, float]) -> bool:
        train_losses, train_metrics, throughput = self.epoch_train
        row: dict[str, Any] = {"epoch": self.epoch, "step": self.step, "lr": self._lr(),
                               "seconds": round(time.perf_counter() - self.started, 3),
                               "throughput": throughput}
        row.update({f"train_{k}": v for k, v in {**train_losses, **train_metrics}.items()})
        row.update({f"val_{k}": v for k, v in {**losses, **metrics}.items()})
        self.history.append(row)
        if self.rundir is not None:
            self.rundir.log("epochs", row)
            self.rundir.flush()
        name, mode = self._monitor()
        value = row.get(name)
        improved = False
        if value is not None and math.isfinite(value):
            improved = self.best is None or (value > self.best if mode == "max" else value < self.best)
        if improved:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        remaining = (self.total_steps - self.step) * self.train_seconds / max(self.step - self.run_start_step, 1)
        self._emit(make_event("epoch", step=self.step, epoch=self.epoch, split="val", losses=losses,
                              metrics=metrics, throughput=throughput, eta=remaining,
                              train={"losses": train_losses, "metrics": train_metrics},
                              epochs=self.config.epochs, best=improved, monitor=name))
        return improved

    def _monitor(self) -> tuple[str, str]:
        c = self.config
        if c.monitor == "auto":
            name, mode = self.task.main_metric
            return f"val_{name}", mode
        name = c.monitor if c.monitor.startswith(("val_", "train_")) else f"val_{c.monitor}"
        return name, "max" if any(w in name for w in ("acc", "iou", "d_x")) else "min"

    def _save_checkpoint(self, best: bool) -> None:
        if self.rundir is None:
            return
        # The weights travel inside the state file, written first in one atomic rename: a kill
        # at any moment leaves a matching pair of weights and optimizer state to resume from.
        # last.safetensors follows for export and inspection (a kill between the two leaves it
        # one epoch behind, never paired with the wrong state).
        self.rundir.save_state({
            "epoch": self.epoch, "step": self.step, "model": self.net.state_dict(),
            "regime": self.regime.state_dict(),
            "schedulers": [s.state_dict() if s is not None else {} for s in self.schedulers],
            "best": self.best, "bad_epochs": self.bad_epochs, "history": self.history,
        })
        last = self.rundir.save_weights(self.net, "last.safetensors")
        self.result.last_checkpoint = last
        self.last_good = (last, self.epoch)
        self._emit(make_event("checkpoint", step=self.step, epoch=self.epoch, path=str(last), best=False))
        if best:
            path = self.rundir.save_weights(self.net, "best.safetensors")
            self.result.best_checkpoint = path
            self._emit(make_event("checkpoint", step=self.step, epoch=self.epoch, path=str(path), best=True))

    def _emit_samples(self) -> None:
        if not self.config.samples or self.rundir is None or not self.ctx.main:
            return
        grid = self.regime.sample_grid(self.val_feed)
        if grid is None:
            return
        image, kind = grid
        path = self.rundir.save_png(f"samples/epoch_{self.epoch:03d}.png", image)
        self._emit(make_event("samples", step=self.step, epoch=self.epoch, split="val", path=str(path),
                              image=image, kind=kind))

    # ---- endings ---------------------------------------------------------------------------

    def _finish(self, status: str) -> None:
        r = self.result
        r.status, r.regime, r.history = status, self.task.regime, self.history
        r.epochs, r.steps = self.epoch, self.step
        r.seconds = round(time.perf_counter() - self.started, 3)
        r.final = final_figures(self.history[-1] if self.history else {}, self.epoch, r.seconds)
        self._write_summary()
        self._emit(make_event("done", step=self.step, epoch=self.epoch, status=status, final=r.final,
                              run_dir=str(r.run_dir) if r.run_dir else None, seconds=r.seconds))

    def _fail(self, message: str, issues: list[str] | None = None, detail: str | None = None) -> RunResult:
        r = self.result
        r.status, r.error, r.issues = "failed", message, issues or [message]
        r.epochs, r.steps, r.history = self.epoch, self.step, self.history
        r.seconds = round(time.perf_counter() - self.started, 3)
        r.regime = getattr(getattr(self, "task", None), "regime", None)
        if self.history:
            r.final = final_figures(self.history[-1], self.epoch, r.seconds)
        if self.rundir is not None:
            self._write_summary()
        self._emit(make_event("error", step=self.step, epoch=self.epoch, message=message,
                              issues=r.issues, traceback=detail))
        return r

    def _write_summary(self) -> None:
        r = self.result
        self.rundir.write_json("summary.json", {
            "status": r.status, "regime": r.regime, "error": r.error, "final": r.final,
            "epochs": r.epochs, "steps": r.steps, "seconds": r.seconds, "best": self.best,
            "monitor": self._monitor()[0] if hasattr(self, "task") else None,
            "runtime": self.plan.describe() if hasattr(self, "plan") else None,
            "last_checkpoint": r.last_checkpoint, "best_checkpoint": r.best_checkpoint,
        })

    def _nan_message(self, index: Any, losses: dict[str, float]) -> str:
        bad = next(f"{k} = {v}" for k, v in losses.items() if not math.isfinite(v))
        broken = self.train_feed.describe_broken(index)
        good = getattr(self, "last_good", None)
        where = (f"the last good checkpoint is {good[0]} (epoch {good[1]})" if good
                 else "no checkpoint had been written yet")
        cause = f" The batch holds a broken sample: {broken}." if broken else \
            " Try a smaller learning rate or gradient clipping."
        return f"step {self.step + 1}: the loss is not finite ({bad}); training stopped.{cause} {where[0].upper()}{where[1:]}."

    def _describe_crash(self, exc: Exception) -> str:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            half = max(1, self.config.batch_size // 2)
            torch.cuda.empty_cache()
            return (f"step {self.step + 1}: out of GPU memory with batch size {self.config.batch_size}; "
                    f"try a smaller batch (--batch-size {half})")
        return f"step {self.step + 1}: {type(exc).__name__}: {exc}"

    # ---- small helpers ---------------------------------------------------------------------

    def _emit(self, event: dict[str, Any]) -> None:
        if self.sink is not None and self.ctx.main:
            self.sink(event)

    def _lr(self) -> float:
        return float(self.regime.optimizers[0].param_groups[0]["lr"])

    @staticmethod
    def _seed(seed: int) -> None:
        import torch

        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)


def vocabularies(info: dict[str, Any]) -> dict[str, list[str]]:
    """Field -> words (id order) of every token field that carries its vocabulary."""
    return {name: list(fi.class_names) for name, fi in info.items()
            if getattr(fi, "kind", "") == "tokens" and getattr(fi, "class_names", None)}


def final_figures(row: dict[str, Any], epochs: int, seconds: float) -> dict[str, Any]:
    """The `train --json` line: val_loss and, as the regime has them, the other headline figures."""
    out: dict[str, Any] = {"val_loss": row.get("val_loss")}
    for key, name in (("val_accuracy", "val_accuracy"), ("val_reconstruction", "reconstruction"),
                      ("val_kl", "kl"), ("val_d_loss", "d_loss"), ("val_g_loss", "g_loss"),
                      ("val_miou", "val_miou"), ("val_pixel_accuracy", "val_pixel_accuracy"),
                      ("val_mae", "val_mae"), ("val_exact_match", "val_exact_match"), ("val_bleu", "val_bleu")):
        if key in row:
            out[name] = row[key]
    out["epochs"] = epochs
    out["seconds"] = seconds
    return out


_CONTINUED = ("lr", "epochs", "schedule", "step_size", "gamma")
"""Settings a resumed run takes from its last leg's config.json unless given again."""


def _previous_settings(overrides: Any) -> dict[str, Any]:
    """The resumed run's own lr, epochs and schedule (from RUN_DIR/config.json), or {}."""
    import json

    resume = overrides.get("resume") if isinstance(overrides, dict) else getattr(overrides, "resume", None)
    if not resume:
        return {}
    try:
        recorded = json.loads((Path(resume) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: recorded[k] for k in _CONTINUED if isinstance(recorded, dict) and k in recorded}


def _scheduler(optimizer: Any, config: TrainConfig, epochs: int | None = None) -> Any:
    import torch

    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs or config.epochs)
    return None


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "run"
