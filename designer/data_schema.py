"""The open graph's data schema, as the GUI thread can afford it: built-ins at once, files later.

A built-in is described from its options in microseconds (`training.datasets.describe_builtin`,
which never imports scikit-learn). A user's file has to be read, which can take seconds, so it is
read on the designer's worker pool and the result cached by resolved path, modification time and
the data section's options; until it arrives the state says `pending`, and `arrived` tells the
document to check again. Editing the file on disk (a new mtime) reads it again.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, Signal

from training.datasets import DataError, DataSchema, describe, describe_builtin
from training.datasets.core import resolve_path

CACHE_SIZE = 8


@dataclass(frozen=True)
class DataState:
    """What is known about the data section now.

    Attributes:
        schema: the dataset's schema, or None (a problem, or still reading).
        problem: the DataError message when the section cannot be described.
        pending: a file is being read off the GUI thread; `schema` follows.
        section: the data section this state describes.
    """

    schema: DataSchema | None = None
    problem: str | None = None
    pending: bool = False
    section: dict[str, Any] = field(default_factory=dict)


class SchemaSource(QObject):
    """Describes data sections for the GUI thread, reading files in the background.

    Signals:
        arrived(): a file's schema (or its error) was read; look the section up again.
    """

    arrived = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[tuple, tuple[DataSchema | None, str | None]] = OrderedDict()
        self._reading: set[tuple] = set()
        # Not a child of this object: a job still running when the window closes emits into it.
        self._signals = _Signals()
        self._signals.done.connect(self._store, Qt.ConnectionType.QueuedConnection)

    def lookup(self, section: dict[str, Any], root: Path | None) -> DataState:
        """The state of `section` now; starts reading a file that is not cached yet."""
        section = dict(section)
        try:
            schema = describe_builtin(section)
        except DataError as exc:
            return DataState(None, str(exc), False, section)
        if schema is not None:
            return DataState(schema, None, False, section)
        key = _file_key(section, root)
        if key is None:
            try:
                describe(headers_only(section), root)  # a missing path fails at once, before reading anything
            except DataError as exc:
                return DataState(None, str(exc), False, section)
            key = _file_key(section, root) or ("?",)
        if key in self._cache:
            self._cache.move_to_end(key)
            schema, problem = self._cache[key]
            return DataState(schema, problem, False, section)
        if key not in self._reading:
            from .code_view import worker_pool  # code_view imports the document, which imports this

            self._reading.add(key)
            worker_pool().start(_DescribeJob(key, section, root, self._signals))
        return DataState(None, None, True, section)

    def _store(self, key: tuple, schema: DataSchema | None, problem: str | None) -> None:
        self._reading.discard(key)
        self._cache[key] = (schema, problem)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.arrived.emit()


class _Signals(QObject):
    done = Signal(object, object, object)  # key, schema, problem


class _DescribeJob(QRunnable):
    """Reads one data file on the worker pool and reports its schema or its one-line error."""

    def __init__(self, key: tuple, section: dict[str, Any], root: Path | None, signals: _Signals) -> None:
        super().__init__()
        self.key, self.section, self.root, self.signals = key, section, root, signals
        self.done = signals.done

    def run(self) -> None:
        try:
            result = (describe(headers_only(self.section), self.root), None)
        except DataError as exc:
            result = (None, str(exc))
        except Exception as exc:  # a loader bug must still reach the user, not kill the thread
            result = (None, f"{self.section.get('dataset')}: {type(exc).__name__}: {exc}")
        with contextlib.suppress(RuntimeError):  # the window went away meanwhile
            self.done.emit(self.key, *result)


def headers_only(section: dict[str, Any]) -> dict[str, Any]:
    """The data section as the window reads it to describe it: with "stream" on, so a folder's
    images (or an archive's) are read for their headers, not decoded whole into the window's
    memory — up to 512 MB, and seconds of decoding, below "auto"'s threshold. The schema is the
    same; training still follows the section's own setting."""
    return {**section, "stream": "on"}


def _file_key(section: dict[str, Any], root: Path | None) -> tuple | None:
    """(path, what changed on disk, the options) or None when the path does not exist."""
    path = resolve_path(str(section.get("dataset", "")), root)
    try:
        stat = path.stat()
        stamp: list[Any] = [stat.st_mtime_ns, stat.st_size]
        if path.is_dir():
            # A class folder gaining an image changes that folder's mtime, not the root's.
            stamp += sorted((p.name, p.stat().st_mtime_ns) for p in path.iterdir())
    except OSError:
        return None
    return str(path.resolve()), json.dumps(stamp), json.dumps(section, sort_keys=True, default=str)
