"""The designer's main window: the canvas in the middle, docks around it, menus and shortcuts.

Each dock's widget comes from a small module (palette, inspector, issues_view, code_view,
summary_view); this module only wires them together. Later panels plug in with `add_dock`
(e.g. the training panel) and can freeze the document with `set_editing_locked` while they
run. Nothing here imports torch: codegen and ONNX export import it on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QTransform
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QToolButton,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from graph_core import Graph

from .canvas import GraphScene, GraphView
from .canvas.context_menu import build_canvas_menu
from .canvas.layout import wrap_if_unreadable
from .code_view import CodeView
from .data_panel import install_data
from .document import Document
from .editor import Editor
from .exports import Exporter
from .files import FileController
from .import_dialog import install_import
from .inspector import Inspector
from .issues_view import IssuesList
from .palette import Palette
from .quick_add import QuickAdd
from .summary_view import SummaryView
from .template_dialog import TemplateDialog
from .training import install as install_training

SHORT_WINDOW = 820  # px: below this height the inspector and the code share their dock as tabs


def make_settings() -> QSettings:
    """The app's QSettings; NETWRIGHT_SETTINGS_PATH points it at an ini file (tests use one)."""
    path = os.environ.get("NETWRIGHT_SETTINGS_PATH")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("Netwright", "Netwright Designer")


class MainWindow(QMainWindow):
    """The designer. `graph` is the open document; `open_file(path)` opens one.

    Public parts for scripts, tests and later panels: `document`, `scene`, `view` (the canvas),
    `editor`, `palette`, `inspector`, `issues`, `summary`, `code_view`, `files`, `exporter`,
    `undo_view`, `add_dock(...)` and `set_editing_locked(...)`.
    """

    def __init__(self, graph: Graph | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or make_settings()
        self.document = Document(graph, self)
        self.scene = GraphScene(self.document, self)
        self.view = GraphView(self.scene)
        self.editor = Editor(self.document, self.scene, self)
        self.palette = Palette()
        self.inspector = Inspector(self.document, self.editor)
        self.inspector.graph_folder = lambda: self.files.path.parent if self.files.path else None
        self.issues = IssuesList(self.document)
        self.summary = SummaryView(self.document)
        self.code_view = CodeView(self.document)
        self.undo_view = QUndoView(self.document.undo_stack)
        self.undo_view.setEmptyLabel("<opened>")
        self.files = FileController(self.document, self, self.settings)
        self.exporter = Exporter(self.document, self)
        self.quick_add = QuickAdd(self)
        self.docks: dict[str, QDockWidget] = {}
        self._shown_once = False
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._connect()
        self.data_panel = install_data(self)  # the Data dock, tabbed with Issues
        self.training = install_training(self)  # Training/Results/Runs docks (designer.training)
        self.resize(1600, 1000)
        self._restore_layout()
        self._update_title()
        self.statusBar().showMessage("Drag layers from the palette onto the canvas, or press Tab "
                                     "on the canvas to search. Drag from a port to wire.")
        QTimer.singleShot(0, self.files.offer_recovery)

    # ---- public API --------------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The open document."""
        return self.document.graph

    def open_file(self, path: str | os.PathLike) -> bool:
        """Open a graph file; on failure the current document stays and the reason is shown."""
        ok = self.files.open(path)
        if ok:
            self.view.fit_all()
        return ok

    def add_dock(self, widget: QWidget, title: str, name: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
                 tabify_with: str | None = None) -> QDockWidget:
        """Add a panel as a dock (and a View menu toggle). `name` is the dock's objectName,
        which QSettings uses to remember its place. Returns the dock."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if tabify_with and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[name] = dock
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def set_editing_locked(self, locked: bool, reason: str = "") -> None:
        """Freeze (or unfreeze) the document: every edit is refused with `reason` (shown in
        the status bar) — e.g. while training runs on it."""
        self.document.set_locked(locked, reason)
        for action in self.edit_actions:
            action.setEnabled(not locked)
        self.palette.setEnabled(not locked)
        self.inspector.setEnabled(not locked)
        self.statusBar().showMessage(f"Editing locked: {reason}" if locked else "Editing unlocked.")

    @property
    def editing_locked(self) -> bool:
        return self.document.locked

    # ---- building ----------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.breadcrumb = QWidget()
        self.breadcrumb.setObjectName("breadcrumb")
        self._crumbs = QHBoxLayout(self.breadcrumb)
        self._crumbs.setContentsMargins(6, 2, 6, 2)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.view)
        self.setCentralWidget(central)
        self._update_breadcrumb()

    def _build_docks(self) -> None:
        left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        self.add_dock(self.palette, "Layers", "palette", left)
        self.add_dock(self.inspector, "Inspector", "inspector", right)
        self.add_dock(self.code_view, "Code", "code", right)
        self.add_dock(self.issues, "Issues", "issues", bottom)
        self.add_dock(self.summary, "Summary", "summary", bottom)
        self.add_dock(self.undo_view, "History", "history", left)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key, std = QKeySequence, QKeySequence.StandardKey
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New", self.new_document, key(std.New))
        self._action(file_menu, "New from &template…", self.new_from_template, key("Ctrl+Shift+N"))
        self._action(file_menu, "&Open…", self.open_dialog, key(std.Open))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        self._action(file_menu, "&Save", self.files.save, key(std.Save))
        self._action(file_menu, "Save &as…", self.files.save_as, key("Ctrl+Shift+S"))
        file_menu.addSeparator()
        self._action(file_menu, "Export &Python code…", self.exporter.export_python, key("Ctrl+E"))
        self._action(file_menu, "Export &ONNX…", self.exporter.export_onnx, key("Ctrl+Shift+E"))
        self.importer = install_import(self, file_menu)  # File -> Import model… (import_dialog.py)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, key(std.Quit))

        edit = self.menuBar().addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(key(std.Undo))
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([key("Ctrl+Shift+Z"), key("Ctrl+Y")])
        edit.addActions([undo, redo])
        self.addActions([undo, redo])
        edit.addSeparator()
        self.edit_actions = [
            undo, redo,
            self._action(edit, "&Copy", self.editor.copy, key(std.Copy)),
            self._action(edit, "&Paste", self.editor.paste, key(std.Paste)),
            self._action(edit, "&Duplicate", self.editor.duplicate, key("Ctrl+D")),
            self._action(edit, "&Delete", self.editor.delete_selected, [key(Qt.Key.Key_Delete), key(Qt.Key.Key_Backspace)]),
            self._action(edit, "&Add layer…", self.show_quick_add, None, "Tab or Space on the canvas"),
            self._action(edit, "Auto &layout", self.editor.auto_layout, key("Ctrl+L")),
            self._action(edit, "&Group into block", self.editor.group_selected, key("Ctrl+G"),
                         "Put the selected nodes into a new block"),
            self._action(edit, "U&ngroup", self.editor.ungroup_selected, key("Ctrl+Shift+G"),
                         "Put the selected block's nodes back inline"),
        ]
        self._action(edit, "Select &all", lambda: self.scene.select_nodes(list(self.scene.graph.nodes)),
                     key(std.SelectAll))

        self.view_menu = self.menuBar().addMenu("&View")
        fit = self._action(self.view_menu, "&Fit to window", self.view.fit_all, [key("F"), key("Ctrl+0")])
        fit.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.removeAction(fit)
        self.view.addAction(fit)  # plain F only on the canvas, so typing "F" elsewhere still works
        self._action(self.view_menu, "Fit (Ctrl+0)", self.view.fit_all, key("Ctrl+0"))
        self._action(self.view_menu, "Zoom &in", lambda: self.view.zoom_by(1.25), key(std.ZoomIn))
        self._action(self.view_menu, "Zoom &out", lambda: self.view.zoom_by(0.8), key(std.ZoomOut))
        self._action(self.view_menu, "Back to the &top graph", lambda: self.scene.show_graph([]), key("Ctrl+Up"))
        self.view_menu.addSeparator()
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Documentation", self.open_docs, key(std.HelpContents),
                     "Open the designer's guide (docs/designer.md)")
        self._action(help_menu, "&Templates and the course", lambda: self.open_docs("templates.md"))
        self._action(help_menu, "&Shortcuts", self._show_help)

    def _connect(self) -> None:
        for source in (self.scene, self.editor, self.files, self.exporter):
            source.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.files.path_changed.connect(self._update_title)
        self.document.replaced.connect(self._update_title)
        self.view.layer_dropped.connect(lambda t, pos: self.editor.add_node(t, pos))
        self.view.quick_add_requested.connect(self._quick_add_at)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(
            lambda pos: self.canvas_menu(pos).popup(self.view.viewport().mapToGlobal(pos)))
        self.palette.add_requested.connect(self._add_from_palette)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self._selection_timer = QTimer(self, singleShot=True, interval=0)
        self._selection_timer.timeout.connect(self._selection_changed)
        self.scene.selectionChanged.connect(self._selection_timer.start)
        self._view_states: dict[tuple[str, ...], tuple[QTransform, QPointF]] = {}
        self._left_path: tuple[str, ...] = ()
        self.scene.leaving.connect(self._remember_view)
        self.scene.block_opened.connect(self._view_after_switch)
        self.document.replaced.connect(self._view_states.clear)
        self.scene.block_opened.connect(self._update_breadcrumb)
        self.scene.block_opened.connect(lambda: self.inspector.show_node(None))
        self.issues.node_chosen.connect(self.reveal_node)
        self.summary.node_chosen.connect(self.reveal_node)
        self.code_view.node_chosen.connect(self.reveal_node)
        self._quick_add_pos = QPointF()

    # ---- slots -------------------------------------------------------------------------------

    def new_document(self) -> None:
        if self.files.new():
            self.view.fit_all()

    def open_dialog(self) -> None:
        if self.files.open():
            self.view.fit_all()

    def new_from_template(self, name: str | None = None) -> bool:
        if not self.files.maybe_save():
            return False
        dialog = TemplateDialog(self)
        if name:
            dialog.select(name)
        if dialog.exec() != TemplateDialog.DialogCode.Accepted or dialog.graph is None:
            return False
        self.open_template_graph(dialog.graph)
        return True

    def open_template_graph(self, graph: Graph) -> None:
        """Make a freshly built template the document; a layout too long to read when fitted
        (VGG's 40 layers in one row) is wrapped to the canvas's shape first."""
        wrap_if_unreadable(graph, self.editor.view_aspect())
        self.files.new(graph, ask=False)
        self.view.fit_all()

    def reveal_node(self, node_id: str) -> None:
        """Select a node of the document and centre the canvas on it."""
        if node_id not in self.scene.node_items and node_id in self.graph.nodes:
            self.scene.show_graph([])
        item = self.scene.node_items.get(node_id)
        if item is None:
            return
        self.scene.select_nodes([node_id])
        self.view.centerOn(item.center())

    def show_quick_add(self) -> None:
        self._quick_add_at(self.view.cursor_scene_pos())

    def _quick_add_at(self, pos: QPointF) -> None:
        if self.document.locked:
            self.statusBar().showMessage(f"Editing locked: {self.document.locked_reason}")
            return
        self._quick_add_pos = pos
        self.quick_add.popup(self.view.viewport().mapToGlobal(self.view.mapFromScene(pos)))

    def _quick_add_chosen(self, type_name: str) -> None:
        # After a selected node, the new one goes to its right, wired (like the palette);
        # on an empty selection it lands where the cursor was.
        if self.scene.selected_node_ids():
            self._add_from_palette(type_name)
        else:
            self.editor.add_node(type_name, self._quick_add_pos)
        self.view.setFocus()

    def _add_from_palette(self, type_name: str) -> None:
        node_id = self.editor.add_near_selection(type_name)
        item = self.scene.node_items.get(node_id or "")
        if item is not None:
            self.view.ensureVisible(item, 40, 40)

    def canvas_menu(self, pos: QPoint) -> QMenu:
        """The canvas's right-click menu for viewport point `pos` (see canvas/context_menu.py)."""
        menu = build_canvas_menu(self, self.view, self.editor, pos, self._quick_add_at)
        self.training.explainer.extend_canvas_menu(menu, self.scene.selected_node_ids(), self.scene.graph,
                                                   list(self.scene.path))
        return menu

    def _remember_view(self) -> None:
        self._left_path = tuple(self.scene.path)
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        self._view_states[self._left_path] = (self.view.transform(), centre)

    def _view_after_switch(self) -> None:
        """An opened block is fitted (its nodes sit wherever they were in the outer graph);
        going back up returns to the zoom and place the user left."""
        path = tuple(self.scene.path)
        state = self._view_states.get(path)
        if state is not None and len(path) < len(self._left_path):
            self.view.setTransform(state[0])
            self.view.centerOn(state[1])
        elif path:
            self.view.fit_all()

    def _selection_changed(self) -> None:
        self.inspector.show_nodes(self.scene.selected_node_ids())

    def _update_title(self) -> None:
        self.setWindowTitle(self.files.title())
        self._update_breadcrumb()

    def _update_breadcrumb(self) -> None:
        while self._crumbs.count():
            w = self._crumbs.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        trail = [(self.graph.name or "graph", [])]
        for k, nid in enumerate(self.scene.path):
            trail.append((nid, self.scene.path[:k + 1]))
        for k, (label, path) in enumerate(trail):
            if k:
                self._crumbs.addWidget(QLabel("▸"))
            button = QToolButton(text=label)
            button.setAutoRaise(True)
            button.setEnabled(k < len(trail) - 1)
            button.clicked.connect(lambda _c=False, p=path: self.scene.show_graph(p))
            self._crumbs.addWidget(button)
        hint = QLabel("  (double-click a Block to open it)" if not self.scene.path else "  (inside a block)")
        hint.setStyleSheet("color: #667085;")
        self._crumbs.addWidget(hint)
        self._crumbs.addStretch(1)

    def breadcrumb_buttons(self) -> list[QToolButton]:
        """The breadcrumb's buttons, top graph first (the last one is the graph on show)."""
        return [w for k in range(self._crumbs.count())
                if isinstance(w := self._crumbs.itemAt(k).widget(), QToolButton)]

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.files.recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for f in files:
            self.recent_menu.addAction(Path(f).name, lambda f=f: self.open_file(f)).setToolTip(f)

    def open_docs(self, page: str = "designer.md") -> bool:
        """Open a page of the documentation (docs/ beside the package) with the desktop's viewer.
        False when the page is not there or nothing could open it (the status bar says which)."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        local = Path(__file__).resolve().parents[1] / "docs" / page
        if not local.is_file():
            self.statusBar().showMessage(f"The documentation is not installed here ({local} is missing); "
                                         "Help -> Shortcuts lists the essentials.", 10000)
            return False
        url = QUrl.fromLocalFile(str(local))
        ok = QDesktopServices.openUrl(url)
        self.statusBar().showMessage(f"Opened {url.toString()}" if ok else
                                     f"Could not open {url.toString()}: no program for it", 10000)
        return ok

    def _show_help(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.information(self, "Shortcuts", (
            "Drag a layer from the palette onto the canvas (or double-click it to add it after the "
            "selected node).\nTab or Space on the canvas: quick add.\nDrag from an output port (right) "
            "to an input port (left) to wire; drop on a card to use its first free input.\n"
            "Delete: remove selection · Ctrl+C/V/D: copy/paste/duplicate · Ctrl+Z / Ctrl+Shift+Z: "
            "undo/redo\nF or Ctrl+0: fit · wheel: zoom · middle button or Alt+drag: pan · Ctrl+L: "
            "auto layout\nCtrl+G: group the selected nodes into a block · Ctrl+Shift+G: ungroup · "
            "right-click: canvas menu\nDouble-click a Block to open it; the bar above the canvas "
            "leads back.\nEscape: cancel a wire, move or rubber band being dragged."))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self.settings.value("windowState") is None:
                # First start: give the canvas most of the room (docks sized once, after all
                # panels — including ones added by add_dock — are in place), within the screen.
                room = self.screen().availableGeometry() if self.screen() else None
                offscreen = QGuiApplication.platformName() == "offscreen"
                if room is None or offscreen:
                    self.resize(1600, 1000)
                else:
                    self.resize(min(1600, room.width()), min(1000, room.height()))
                self._size_docks()
            QTimer.singleShot(0, self._fit_on_screen)

    def _fit_on_screen(self) -> None:
        """Keep the window on its screen (a layout remembered from a larger screen, or docks
        that asked for room, must not push it past the edge), then fit the canvas: a file
        opened before the window had its size was fitted to a tiny viewport."""
        offscreen = QGuiApplication.platformName() == "offscreen"  # --screenshot sizes it itself
        screen = self.screen().availableGeometry() if self.screen() and not offscreen else None
        frame = self.frameGeometry()
        if screen is not None and not self.isMaximized() and not screen.contains(frame):
            self.resize(min(self.width(), screen.width()), min(self.height(), screen.height()))
            self.move(max(screen.left(), min(frame.left(), screen.right() - self.width())),
                      max(screen.top(), min(frame.top(), screen.bottom() - self.height())))
        self.view.fit_all()

    def _size_docks(self) -> None:
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        if self.height() < SHORT_WINDOW and self.dockWidgetArea(self.docks["code"]) == \
                self.dockWidgetArea(self.docks["inspector"]):
            # A short screen (1024x700): stacked, the inspector would get a hundred pixels;
            # as tabs each gets the whole right column.
            self.tabifyDockWidget(self.docks["inspector"], self.docks["code"])
            self.docks["inspector"].raise_()
        self.resizeDocks([self.docks["palette"], self.docks["history"]], [600, 160], vertical)
        self.resizeDocks([self.docks["palette"], self.docks["inspector"]], [230, 390], horizontal)
        self.resizeDocks([self.docks["inspector"], self.docks["code"]], [420, 330], vertical)
        bottom = [d for d in self.docks.values()
                  if self.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea and d.isVisible()]
        if bottom:
            self.resizeDocks(bottom[:1], [250], vertical)
        if "issues" in self.docks and "summary" in self.docks:
            # the left tabs (Issues, Training with its curves) get the larger share of the width
            third = self.width() // 3
            self.resizeDocks([self.docks["issues"], self.docks["summary"]], [2 * third, third], horizontal)
        self.docks["issues"].raise_()  # while designing, the issues are what a user needs to see

    # ---- layout persistence and closing ------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry, state = self.settings.value("geometry"), self.settings.value("windowState")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.sync()
        self.files.discard_recovery()  # a clean exit: nothing to recover next time
        self.files.autosave_timer.stop()
        self.code_view.shutdown()
        self.code_view.pool.waitForDone(5000)
        self.importer.cancel(wait=True)  # an import still running is abandoned, its files removed
        if self.exporter.process is not None:  # an export still running is abandoned
            self.exporter.process.kill()
            self.exporter.process.waitForFinished(3000)
        event.accept()
