"""How long the designer's GUI thread stalls on a large graph (run: python benchmarks/designer_responsiveness.py).

Builds an N-node graph (a chain of Dense/ReLU blocks with skip Adds), opens it in the window
offscreen, then times on the GUI thread: opening, one parameter edit (inference + validation +
card refresh), undo, a 50-node move, and — with a 5 ms heartbeat timer — the longest gap the
event loop saw while the debounced code view regenerated on its worker thread.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from graph_core import Edge, Graph, MoveNodes, Node, SetParam  # noqa: E402


def big_graph(n: int) -> Graph:
    g = Graph(name=f"big{n}")
    g.nodes["x"] = Node("x", "Input", {"shape": [64]}, ui={"x": 0.0, "y": 0.0})
    prev = "x"
    k = 0
    while len(g.nodes) < n - 1:
        a, r, s = f"fc{k}", f"act{k}", f"add{k}"
        g.nodes[a] = Node(a, "Dense", {"out_features": 64}, ui={"x": 250.0 * (3 * k + 1), "y": 0.0})
        g.nodes[r] = Node(r, "ReLU", ui={"x": 250.0 * (3 * k + 2), "y": 0.0})
        g.nodes[s] = Node(s, "Add", ui={"x": 250.0 * (3 * k + 3), "y": 0.0})
        g.edges += [Edge((prev, "out"), (a, "in")), Edge((a, "out"), (r, "in")),
                    Edge((r, "out"), (s, "in")), Edge((prev, "out"), (s, "in"))]
        prev, k = s, k + 1
    g.nodes["head"] = Node("head", "Output", {"loss": "mse", "target": "y"})
    g.edges.append(Edge((prev, "out"), ("head", "in")))
    return g


def ms(fn) -> float:
    t = time.perf_counter()
    fn()
    QApplication.processEvents()
    return (time.perf_counter() - t) * 1000


def main(n: int) -> None:
    app = QApplication.instance() or QApplication([])
    from designer import MainWindow

    graph = big_graph(n)
    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    print(f"{len(graph.nodes)} nodes, {len(graph.edges)} wires")
    print(f"open (build all cards):        {ms(lambda: w.files.new(graph, ask=False)):7.1f} ms")
    print(f"fit view + paint:              {ms(lambda: (w.view.fit_all(), w.view.viewport().repaint())):7.1f} ms")
    w.view.resetTransform()  # edits below at 100% zoom, as a user works
    w.view.centerOn(w.scene.node_items["fc3"])
    print(f"paint at 100% zoom:            {ms(w.view.viewport().repaint):7.1f} ms")
    print(f"edit one parameter (first):    {ms(lambda: w.editor.run(SetParam('fc3', 'out_features', 32))):7.1f} ms")
    print(f"undo it (first):               {ms(w.document.undo_stack.undo):7.1f} ms")
    # The first edit pays one-off costs (caches, lazily built widgets); a user's tenth edit is
    # what working feels like: median of 10 edits, each followed by its undo.
    edits, undos = [], []
    for width in range(33, 43):
        edits.append(ms(lambda width=width: w.editor.run(SetParam('fc3', 'out_features', width))))
        undos.append(ms(w.document.undo_stack.undo))
    print(f"edit one parameter (median 10):{statistics.median(edits):7.1f} ms (max {max(edits):.1f})")
    print(f"undo it (median 10):           {statistics.median(undos):7.1f} ms (max {max(undos):.1f})")
    moved = {nid: (graph.nodes[nid].ui.get('x', 0) + 10, 40.0) for nid in list(graph.nodes)[:50]}
    print(f"move 50 nodes (one command):   {ms(lambda: w.editor.run(MoveNodes(moved))):7.1f} ms")
    # Longest event-loop gap while the code view regenerates (worker thread) and applies.
    clock, gaps = QElapsedTimer(), []
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer(interval=5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    loop = QEventLoop()
    w.code_view.updated.connect(loop.quit)
    t = time.perf_counter()
    w.code_view.regenerate()
    loop.exec()
    total = (time.perf_counter() - t) * 1000
    heartbeat.stop()
    print(f"codegen round trip (worker):   {total:7.1f} ms, longest GUI-thread gap {max(gaps or [0]):.0f} ms "
          f"(heartbeat 5 ms), {len(w.code_view.toPlainText().splitlines())} lines")
    w.files.autosave_timer.stop()
    w.close()


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [500, 1000]:
        main(size)
