"""Render the window as File -> New from template opens a template (python benchmarks/template_window.py
NAME PNG [key=value ...]), and print how the layout fits the canvas.

`netwright gui FILE --screenshot PNG` opens a file as it was laid out; the template dialog first
re-lays out a layout too long to read (designer/canvas/layout.py wrap_if_unreadable), which is
what this shows: docs/img/designer-pix2pix-u.png is `pix2pix docs/img/designer-pix2pix-u.png`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    import templates
    from designer.canvas.layout import wires_through_cards
    from designer.main_window import MainWindow
    from designer.screenshot import take_screenshot
    from netwright.cmd_templates import parse_assignment

    name, png = argv[0], argv[1]
    params = dict(parse_assignment(templates.get_template(name), item) for item in argv[2:])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    graph = templates.build(name, **params)
    window.open_template_graph(graph)
    rc = take_screenshot(app, window, png)
    print(f"{name}: canvas {window.view.viewport().width()}x{window.view.viewport().height()} px, "
          f"zoom {window.view.transform().m11():.2f}, wires under a card they do not connect: "
          f"{wires_through_cards(window.graph)}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
