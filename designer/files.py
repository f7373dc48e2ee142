"""Files: New, Open, Save, Save As, recent files, exports, and crash recovery (autosave).

The document is "modified" when the undo stack is not at its clean index. Opening goes through
graph_core's loader; a file that fails to load is reported with the loader's message and the
open document is left exactly as it was. Autosave writes the document to a recovery file every
30 s while it has unsaved changes; a clean exit deletes it, so a recovery file found at start-up
means the last session crashed, and the user is offered to restore it.

Each window has its own recovery file (recovery-<id>.json) and holds a QLockFile beside it for
as long as it lives: another Netwright window or instance never takes, restores or deletes a
file whose owner is alive; a crashed owner leaves a stale lock that the next start-up claims.
A recovery file that cannot be restored (damaged, not UTF-8, nested too deep) is set aside as
*.damaged with a message, and start-up goes on.

Environment hooks (for tests and scripted runs):
    NETWRIGHT_NO_AUTOSAVE_RESTORE=1  never ask about a recovery file at start-up.
    NETWRIGHT_NO_DIALOGS=1           never open a modal dialog: unsaved changes are discarded
                                     without asking, failures go to the status bar only.
    NETWRIGHT_RECOVERY_DIR=path      where the recovery file lives (default: the app data dir).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graph_core import Graph, GraphLoadError, load_graph, save_graph
from graph_core.serialization import atomic_write_text

from .document import Document, new_graph

AUTOSAVE_MS = 30_000
MAX_RECENT = 8
FILE_FILTER = "Netwright graphs (*.json *.nwg);;All files (*)"


def recovery_dir() -> Path:
    """The folder of the recovery files."""
    base = os.environ.get("NETWRIGHT_RECOVERY_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation) or str(Path.home() / ".netwright")
    return Path(base)


def _lock_for(path: Path) -> QLockFile:
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)  # stale only when its process is gone, however old
    return lock


def orphaned_recovery_files() -> list[tuple[Path, QLockFile]]:
    """Recovery files no living window owns, newest first, each with its lock now held.

    (recovery.json, the single file of earlier versions, counts too.)
    """
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in [*folder.glob("recovery-*.json"), folder / "recovery.json"]:
        if not path.is_file():
            continue
        lock = _lock_for(path)
        if lock.tryLock(0):
            found.append((path, lock))
    found.sort(key=lambda item: item[0].stat().st_mtime, reverse=True)
    return found


class FileController(QObject):
    """Owns the document's file: its path, modified state, saving, loading and recovery.

    Signals:
        message(str): a line for the status bar.
        path_changed(): the file name or modified state changed (the title needs an update).
    """

    message = Signal(str)
    path_changed = Signal()

    def __init__(self, document: Document, window: QWidget, settings: QSettings) -> None:
        super().__init__(window)
        self.document, self.window, self.settings = document, window, settings
        self.path: Path | None = None
        self._recovery: Path | None = None
        self._lock: QLockFile | None = None
        document.undo_stack.cleanChanged.connect(self._clean_changed)
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    def _clean_changed(self, _clean: bool) -> None:
        self.path_changed.emit()

    # ---- state -------------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        return not self.document.undo_stack.isClean()

    def title(self) -> str:
        name = self.path.name if self.path else f"{self.document.graph.name} (unsaved)"
        return f"{'*' if self.modified else ''}{name} — Netwright"

    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        files = [value] if isinstance(value, str) else list(value or [])
        return [f for f in files if f][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    # ---- new / open / save -------------------------------------------------------------------

    def new(self, graph: Graph | None = None, ask: bool = True) -> bool:
        """Start a new document (empty, or `graph` from a template)."""
        if ask and not self.maybe_save():
            return False
        self.path = None
        self.document.data_root = None
        self.document.replace_graph(graph if graph is not None else new_graph())
        self.path_changed.emit()
        return True

    def open(self, path: str | os.PathLike | None = None, ask: bool = True) -> bool:
        """Open a file (asks for one when `path` is None). A failed load changes nothing."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self.window, "Open graph", self._dir(), FILE_FILTER)
            if not chosen:
                return False
            path = chosen
        try:
            graph = load_graph(path)
        except GraphLoadError as exc:
            self._refuse(path, str(exc))
            return False
        except OSError as exc:
            self._refuse(path, f"{path}: {exc.strerror or exc}")
            return False
        self.path = Path(path).resolve()
        self.document.data_root = self.path.parent  # relative dataset paths start there
        self.document.replace_graph(graph)
        self._remember(self.path)
        self.path_changed.emit()
        self.message.emit(f"Opened {self.path.name}: {len(graph.nodes)} nodes.")
        return True

    def save(self) -> bool:
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path: str | os.PathLike | None = None) -> bool:
        if path is None:
            suggested = str(Path(self._dir()) / f"{self.document.graph.name or 'untitled'}.json")
            chosen, _ = QFileDialog.getSaveFileName(self.window, "Save graph", suggested, FILE_FILTER)
            if not chosen:
                return False
            path = chosen
        if self.document.graph.name in ("", "untitled"):
            # Name an untitled network after its file (the generated class takes this name).
            self.document.graph.name = Path(path).stem
            self.document.analyse()
        try:
            save_graph(self.document.graph, path)
        except OSError as exc:
            QMessageBox.warning(self.window, "Save failed", f"Could not save {path}:\n{exc}")
            return False
        self.path = Path(path).resolve()
        self.document.set_data_root(self.path.parent)
        self.document.undo_stack.setClean()
        self._remember(self.path)
        self.discard_recovery()
        self.path_changed.emit()
        self.message.emit(f"Saved {self.path}")
        return True

    def maybe_save(self) -> bool:
        """Before discarding unsaved changes: ask Save / Discard / Cancel. True to go on."""
        if not self.modified:
            return True
        if os.environ.get("NETWRIGHT_NO_DIALOGS") == "1":
            return True  # scripted runs and tests: never block on a modal question
        answer = QMessageBox.question(
            self.window, "Unsaved changes",
            f"'{self.path.name if self.path else self.document.graph.name}' has unsaved changes. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _refuse(self, path: str | os.PathLike, message: str) -> None:
        self.message.emit(f"Could not open {Path(path).name}: {message}")
        if os.environ.get("NETWRIGHT_NO_DIALOGS") != "1":
            QMessageBox.warning(self.window, "Could not open file", message)

    def _dir(self) -> str:
        if self.path:
            return str(self.path.parent)
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.cwd())

    # ---- autosave and recovery ---------------------------------------------------------------

    @property
    def recovery_path(self) -> Path:
        """This window's recovery file."""
        if self._recovery is None:
            self._recovery = recovery_dir() / f"recovery-{uuid.uuid4().hex[:12]}.json"
        return self._recovery

    def autosave(self) -> bool:
        """Write the document to this window's recovery file when it has unsaved changes."""
        if not self.modified:
            return False
        target = self.recovery_path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if self._lock is None:
                lock = _lock_for(target)
                if not lock.tryLock(0):
                    raise OSError(f"{target}.lock is held by another process")
                self._lock = lock
            atomic_write_text(target, self.document.snapshot_json())
        except (OSError, ValueError) as exc:  # ValueError: text no UTF-8 file can hold
            self.message.emit(f"Autosave failed: {exc}")
            return False
        return True

    def discard_recovery(self) -> None:
        """Delete this window's recovery file (a clean close); other windows' stay."""
        if self._recovery is None:
            return
        try:
            self._recovery.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.message.emit(f"Could not remove the recovery file: {exc}")
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def offer_recovery(self) -> bool:
        """At start-up: restore the newest recovery file a crashed session left (after asking)."""
        if os.environ.get("NETWRIGHT_NO_AUTOSAVE_RESTORE") == "1":
            return False
        orphans = orphaned_recovery_files()
        for _, lock in orphans[1:]:
            lock.unlock()  # offered at a later start-up
        if not orphans:
            return False
        path, lock = orphans[0]
        try:
            answer = QMessageBox.question(
                self.window, "Restore unsaved work?",
                "Netwright did not close normally last time. Restore the autosaved document?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
            if answer != QMessageBox.StandardButton.Yes:
                path.unlink(missing_ok=True)
                return False
            return self.restore_recovery(path)
        finally:
            lock.unlock()

    def restore_recovery(self, path: Path | None = None) -> bool:
        """Load a recovery file (default: this window's) as an unsaved document.

        A file that cannot be restored is renamed to *.damaged (so it is not offered again, and
        nothing is lost) and the window says so; start-up never fails on it.
        """
        path = self.recovery_path if path is None else path
        try:
            graph = load_graph(path)
        except (OSError, GraphLoadError, ValueError, RecursionError, MemoryError) as exc:
            kept = path.with_name(path.name + ".damaged")
            try:
                os.replace(path, kept)
            except OSError:
                kept = path
            self.message.emit(f"Could not restore the autosaved document ({exc}); it is kept as {kept}")
            return False
        self.new(graph, ask=False)
        if path != self.recovery_path:
            path.unlink(missing_ok=True)  # restored: this window's own autosave takes over
        # Mark as modified so the user is asked to save it somewhere.
        self.document.undo_stack.resetClean()
        self.path_changed.emit()
        self.message.emit("Restored the autosaved document; save it to keep it.")
        return True
