"""The code view: the generated PyTorch source, read-only and syntax-highlighted.

Generation is debounced (300 ms after the last edit) and runs on a worker thread from
QThreadPool on a snapshot of the graph, so a 1,000-node graph never stalls the window; the
result comes back by signal and is applied only if no newer edit has happened meanwhile.
Clicking a line selects the node it came from. codegen is optional at runtime: when it cannot
be imported, the view says so instead of failing.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from graph_core import Graph

from .document import Document

DEBOUNCE_MS = 300
_POOL: QThreadPool | None = None


def worker_pool() -> QThreadPool:
    """The designer's process-wide pool for background jobs (codegen, ONNX export).

    Deliberately not a child of any widget: destroying a QThreadPool waits for its running
    job, and when that happens inside Python (a widget deleted while the GIL is held) while
    the job itself needs the GIL, the two threads wait for each other forever.
    """
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(2)
    return _POOL


def _fmt(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, numbers, strings and comments: enough to read generated code."""

    # One alternation scanned once per line: the highlighter runs in Python for every line of a
    # 1,000-node model's source, so one regex pass instead of five keeps the GUI thread free.
    _PATTERN = re.compile(
        r"(?P<comment>#.*$)|(?P<string>\"[^\"]*\"|'[^']*')"
        r"|(?P<keyword>\b(?:class|def|return|import|from|as|if|else|elif|for|in|not|and|or|is"
        r"|None|True|False|self|super|lambda|with|pass)\b)"
        r"|(?P<module>\b(?:nn|torch|F)\b)|(?P<number>\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b)")
    _FORMATS = {"keyword": _fmt("#7c3aed", bold=True), "module": _fmt("#0e7490"),
                "number": _fmt("#b45309"), "string": _fmt("#15803d"),
                "comment": _fmt("#6b7280", italic=True)}

    def highlightBlock(self, text: str) -> None:
        for m in self._PATTERN.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self._FORMATS[m.lastgroup])


class _Signals(QObject):
    done = Signal(int, str, object)  # object: keeps the int keys of line_to_node


class _GenerateJob(QRunnable):
    """Runs codegen on a snapshot of the graph off the GUI thread."""

    def __init__(self, serial: int, graph: Graph, signals: _Signals) -> None:
        super().__init__()
        self.serial, self.graph, self.signals = serial, graph, signals

    def run(self) -> None:
        source, lines = generate_text(self.graph)
        self.signals.done.emit(self.serial, source, lines)


def generate_text(graph: Graph) -> tuple[str, dict[int, str]]:
    """The source and line -> node map, or a comment explaining why there is none."""
    try:
        from codegen import generate_source
    except Exception as exc:  # codegen missing or broken: degrade to a message
        return f"# The code generator is not available: {exc}\n", {}
    try:
        generated = generate_source(graph)
    except Exception as exc:  # an invalid graph: show why, as a comment
        text = "\n".join(f"# {line}" for line in str(exc).splitlines()) or f"# {type(exc).__name__}"
        return f"# No code yet: the graph has problems to fix first.\n{text}\n", {}
    return generated.source, dict(generated.line_to_node)


class CodeView(QPlainTextEdit):
    """The code dock's widget (objectName `codeView`).

    Signals:
        node_chosen(str): a line that belongs to a node was clicked.
        updated(): new source is on show.
    """

    node_chosen = Signal(str)
    updated = Signal()

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeView")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.document_model = document
        self.line_to_node: dict[int, str] = {}
        self.highlighter = PythonHighlighter(self.document())
        self._serial = 0
        self._signals = _Signals()
        self._signals.done.connect(self._apply, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.regenerate)
        self.pool = worker_pool()
        self._closed = False
        document.analysed.connect(self.schedule)
        self.schedule()

    def schedule(self) -> None:
        """Regenerate after the user pauses (each call restarts the 300 ms timer)."""
        self._serial += 1
        self._timer.start()

    def shutdown(self) -> None:
        """Start no more jobs (the window is closing)."""
        self._closed = True
        self._timer.stop()

    def regenerate(self) -> None:
        """Start generating now, on the worker thread."""
        self._timer.stop()
        if self._closed:
            return
        self.pool.start(_GenerateJob(self._serial, self.document_model.snapshot(), self._signals))

    def _apply(self, serial: int, source: str, lines: dict) -> None:
        if serial != self._serial:
            return  # an edit came in while generating: a newer job is on its way
        if source != self.toPlainText():
            bar = self.verticalScrollBar().value()
            self.setPlainText(source)
            self.verticalScrollBar().setValue(bar)
        self.line_to_node = {int(k): v for k, v in lines.items()}
        self.updated.emit()

    def node_at_line(self, line: int) -> str | None:
        """The node a 1-based line belongs to."""
        return self.line_to_node.get(line)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        line = self.cursorForPosition(event.position().toPoint()).blockNumber() + 1
        node = self.node_at_line(line)
        if node:
            self.node_chosen.emit(node)
