"""The graph file: plain JSON with `format` and `schema_version`, never pickle or code.

Loading checks everything and names the place of each problem (JSON path or node id) in a
GraphLoadError; it never executes anything and never writes. Older files migrate through a
chain of `@migrator(from, to)` steps applied to a copy. Saving is atomic (temp file + rename)
with a stable key order, so files diff well.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .graph import Edge, Graph, Node
from .shapes import cyclic_gc_paused
from .specs import ParamError, get_spec, has_spec

FORMAT = "netwright.graph"
SCHEMA_VERSION = 1
MAX_DEPTH = 64
"""Deepest nesting of objects and lists a file may have. A real graph nests about six deep
(blocks.name.nodes[k].params.shape); anything past this is refused before any recursive step
(copying, migrating, saving) could run out of Python's stack."""


class GraphLoadError(Exception):
    """A file that cannot be read as a graph; the message names the place and the problem."""


_MIGRATORS: dict[int, tuple[int, Callable[[dict], dict]]] = {}


def migrator(from_version: int, to_version: int):
    """Register a step that upgrades a document from one schema version to the next."""

    def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        _MIGRATORS[from_version] = (to_version, fn)
        return fn

    return wrap


@migrator(0, 1)
def _v0_to_v1(doc: dict) -> dict:
    """Schema 0, the pre-release draft: `layers` with `kind`, and wires as "a.out -> b.in" text."""
    layers, wires = doc.get("layers", []), doc.get("wires", [])
    for key, value in (("layers", layers), ("wires", wires)):
        if not isinstance(value, list):
            raise GraphLoadError(f"{key}: expected a list, got {json.dumps(value)[:60]}")
    nodes = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise GraphLoadError(f"layers[{k}]: expected a layer object, got {json.dumps(layer)[:60]}")
        node = {key: v for key, v in layer.items() if key != "kind"}
        node["type"] = layer.get("kind")
        nodes.append(node)
    edges = []
    for k, wire in enumerate(wires):
        try:
            src, dst = (part.strip() for part in wire.split("->"))
            edges.append({"src": src.split("."), "dst": dst.split(".")})
        except (AttributeError, ValueError):
            raise GraphLoadError(f"wires[{k}]: expected 'node.port -> node.port', got {json.dumps(wire)[:60]}") from None
    out = {k: v for k, v in doc.items() if k not in ("layers", "wires")}
    out.update(format=FORMAT, schema_version=1, nodes=nodes, edges=edges)
    return out


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph file; raises GraphLoadError (never anything else) and never writes."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphLoadError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphLoadError(f"{path}: cannot read: {exc}") from None
    return loads_graph(text, str(path))


def loads_graph(text: str, source: str = "<text>") -> Graph:
    """Parse a graph from JSON text; errors are prefixed with `source`."""
    with cyclic_gc_paused():  # parsing allocates millions of objects, none of them cyclic
        return _loads_graph(text, source)


def _loads_graph(text: str, source: str) -> Graph:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if exc.pos >= len(text.rstrip()) else "not valid JSON"
        raise GraphLoadError(f"{source}: {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise GraphLoadError(f"{source}: not a graph: nested too deeply") from None
    except ValueError as exc:  # e.g. a number with more digits than Python converts
        raise GraphLoadError(f"{source}: not valid JSON ({exc})") from None
    try:
        # the parsed data is ours alone (no copy); text can hold a lone surrogate only if the
        # JSON wrote one as an escape (or the str came from elsewhere than a UTF-8 file)
        texts = _SURROGATE_ESCAPE.search(text) is not None or not text.isascii() and _has_surrogate(text)
        return graph_from_dict(doc, copy_first=False, _texts=texts)
    except GraphLoadError as exc:
        raise GraphLoadError(f"{source}: {exc}") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def graph_from_dict(doc: Any, copy_first: bool = True, _texts: bool = True) -> Graph:
    """Build a Graph from parsed JSON, migrating older schema versions first.

    Args:
        doc: the parsed file.
        copy_first: work on a deep copy, so the graph shares nothing with `doc` (False when the
            caller parsed `doc` itself and drops it).
    """
    if not isinstance(doc, dict):
        raise GraphLoadError(f"expected a JSON object at the top level, got {type(doc).__name__}")
    if doc.get("format", FORMAT) != FORMAT:
        raise GraphLoadError(f"format: expected {FORMAT!r}, got {doc.get('format')!r} — not a Netwright graph")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise GraphLoadError(f"schema_version: expected a whole number, got {version!r}")
    if version > SCHEMA_VERSION:
        raise GraphLoadError(f"schema_version {version} was written by a newer Netwright; "
                             f"this one reads up to {SCHEMA_VERSION} — upgrade Netwright")
    check_plain_data(doc, texts=_texts)
    if copy_first:
        doc = copy.deepcopy(doc)
    while version < SCHEMA_VERSION:
        if version not in _MIGRATORS:
            raise GraphLoadError(f"schema_version {version} is not supported (no migration to {SCHEMA_VERSION})")
        version, step = _MIGRATORS[version]
        doc = step(doc)
    return _build_graph(doc, "", top_level=True)


def check_plain_data(doc: Any, max_depth: int = MAX_DEPTH, texts: bool = True) -> None:
    """Refuse data that no later step could handle: nesting past `max_depth` and text that
    cannot be written back as UTF-8 (a lone surrogate such as "\\udcff", which JSON escapes
    admit). Iterative (level by level), so a file nested thousands deep costs a loop, not the
    stack; the JSON path of the offender is worked out only once there is one.

    Args:
        doc: parsed JSON.
        max_depth: the deepest nesting allowed.
        texts: False skips the text check (the caller knows there can be no surrogate: the
            JSON text it parsed had no \\ud800-\\udfff escape).

    Raises:
        GraphLoadError: naming the JSON path of the first offending value.
    """
    level, depth = [doc], 0
    while level:
        deeper = []
        for value in level:
            items = value.values() if type(value) is dict else value if type(value) is list else ()
            if texts and type(value) is dict:
                for key in value:
                    _check_text(key, doc)
            for item in items:
                kind = type(item)
                if kind is dict or kind is list:
                    deeper.append(item)
                elif texts and kind is str:
                    _check_text(item, doc)
        depth += 1
        if deeper and depth >= max_depth:
            raise GraphLoadError(f"{_printable(_path_to(doc, deeper[0]))}: nested too deeply (more than "
                                 f"{max_depth} levels of objects and lists)")
        level = deeper


def _path_to(doc: Any, target: Any) -> str:
    """The JSON path of the object `target` (found by identity) inside `doc`."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, where = stack.pop()
        if value is target:
            return where or "the file"
        if type(value) is dict:
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in value.items()
                         if type(v) in (dict, list))
        elif type(value) is list:
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value) if type(v) in (dict, list))
    return "the file"


def _path_to_text(doc: Any, text: str) -> str:
    """The JSON path of the first key or value equal to `text` inside `doc`."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, where = stack.pop()
        if type(value) is dict:
            for k, v in value.items():
                path = f"{where}.{k}" if where else str(k)
                if k == text or v == text:
                    return path
                if type(v) in (dict, list):
                    stack.append((v, path))
        elif type(value) is list:
            for i, v in enumerate(value):
                if v == text:
                    return f"{where}[{i}]"
                if type(v) in (dict, list):
                    stack.append((v, f"{where}[{i}]"))
    return "the file"


def _check_text(text: Any, doc: Any) -> None:
    if isinstance(text, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(text[exc.start])
            raise GraphLoadError(f"{_printable(_path_to_text(doc, text))}: text holds a lone surrogate "
                                 f"(U+{code:04X}), which no UTF-8 file can store") from None


def _breaks_line(text: str) -> bool:
    """Whether text holds a control character or a line/paragraph separator (a message that
    shows it would break into several lines, or carry a NUL into a file name)."""
    return not text.isprintable() and any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def _printable(text: str, limit: int = 80) -> str:
    """`text` on one line and UTF-8-safe, for messages: control characters and lone surrogates
    are shown escaped."""
    out = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else repr(c)[1:-1] for c in text)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def _build_graph(doc: dict, where: str, top_level: bool, default_name: str = "untitled") -> Graph:
    name = _get(doc, "name", str, default_name, where)
    graph = Graph(name=name, description=_get(doc, "description", str, "", where))
    if top_level:
        graph.training = _get(doc, "training", dict, {}, where)
        graph.data = _get(doc, "data", dict, {}, where)
        blocks = _get(doc, "blocks", dict, {}, where)
        for bname, bdoc in blocks.items():
            if not isinstance(bdoc, dict):
                raise GraphLoadError(f"blocks.{bname}: expected an object with nodes and edges")
            graph.blocks[bname] = _build_graph(bdoc, f"blocks.{bname}.", top_level=False, default_name=bname)
    for k, raw in enumerate(_get(doc, "nodes", list, [], where)):
        node = _build_node(raw, f"{where}nodes[{k}]")
        if node.id in graph.nodes:
            raise GraphLoadError(f"{where}nodes[{k}]: duplicate id {node.id!r}")
        graph.nodes[node.id] = node
    seen: set[Edge] = set()  # a set, not the list: loading stays linear in the number of wires
    for k, raw in enumerate(_get(doc, "edges", list, [], where)):
        edge = _build_edge(raw, f"{where}edges[{k}]")
        for end in (edge.src[0], edge.dst[0]):
            if end not in graph.nodes:
                raise GraphLoadError(f"{where}edges[{k}]: wire {_printable(str(edge))} names unknown node "
                                     f"'{_printable(end)}'")
        if edge in seen:
            raise GraphLoadError(f"{where}edges[{k}]: wire {_printable(str(edge))} appears twice")
        seen.add(edge)
        graph.edges.append(edge)
    return graph


def _get(doc: dict, key: str, kind: type, default: Any, where: str) -> Any:
    value = doc.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise GraphLoadError(f"{where}{key}: expected {_KIND_NAMES[kind]}, got {json.dumps(value)[:60]}")
    return value


_KIND_NAMES = {str: "text", dict: "an object", list: "a list", bool: "true or false", float: "a number"}


def _build_node(raw: Any, where: str) -> Node:
    if not isinstance(raw, dict):
        raise GraphLoadError(f"{where}: expected a node object, got {json.dumps(raw)[:60]}")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise GraphLoadError(f"{where}.id: every node needs a non-empty text id")
    if _breaks_line(node_id):
        raise GraphLoadError(f"{where}.id: '{_printable(node_id)}' holds a control character; "
                             "an id is one line of printable text")
    where = f"{where} ({node_id})"
    type_name = _get(raw, "type", str, None, where + ".") if "type" in raw else None
    if type_name is None:
        raise GraphLoadError(f"{where}: missing 'type'")
    if not has_spec(type_name):
        raise GraphLoadError(f"{where}: unknown node type {type_name!r}")
    params = _get(raw, "params", dict, {}, where + ".")
    try:
        get_spec(type_name).resolve(params)
    except ParamError as exc:
        raise GraphLoadError(f"{where}.params.{exc.param}: {exc.message}") from None
    lr_factor = raw.get("lr_factor", 1.0)
    if (isinstance(lr_factor, bool) or not isinstance(lr_factor, int | float)
            or not math.isfinite(lr_factor) or lr_factor < 0):
        raise GraphLoadError(f"{where}.lr_factor: expected a number >= 0, got {lr_factor!r}")
    return Node(
        id=node_id, type=type_name, params=params,
        name=_get(raw, "name", str, node_id, where + "."),
        frozen=_get(raw, "frozen", bool, False, where + "."),
        lr_factor=float(lr_factor),
        ui=_get(raw, "ui", dict, {}, where + "."),
    )


def _build_edge(raw: Any, where: str) -> Edge:
    if not isinstance(raw, dict) or "src" not in raw or "dst" not in raw:
        raise GraphLoadError(f"{where}: expected {{\"src\": [node, port], \"dst\": [node, port]}}")
    ends = []
    for key, default_port in (("src", "out"), ("dst", "in")):
        end = raw[key]
        if isinstance(end, str):
            end = [end, default_port]
        if not (isinstance(end, list) and len(end) == 2 and all(isinstance(x, str) for x in end)):
            raise GraphLoadError(f"{where}.{key}: expected [node-id, port], got {json.dumps(end)[:60]}")
        ends.append((end[0], end[1]))
    return Edge(ends[0], ends[1])


# ---- writing ------------------------------------------------------------------------------


def graph_to_dict(graph: Graph) -> dict:
    """JSON-safe data in the file's stable key order; defaults are left out."""
    doc: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "name": graph.name}
    if graph.description:
        doc["description"] = graph.description
    doc.update(_body(graph))
    doc["blocks"] = {name: {"name": b.name, **_body(b)} if b.name != name else _body(b)
                     for name, b in graph.blocks.items()}
    doc["training"] = _jsonable(graph.training)
    doc["data"] = _jsonable(graph.data)
    return doc


def _body(graph: Graph) -> dict:
    return {"nodes": [_node_dict(n) for n in graph.nodes.values()],
            "edges": [{"src": list(e.src), "dst": list(e.dst)} for e in graph.edges]}


def _node_dict(node: Node) -> dict:
    out: dict[str, Any] = {"id": node.id, "type": node.type}
    if node.name and node.name != node.id:  # an empty name (set by a script) reads as the id
        out["name"] = node.name
    if node.params:
        out["params"] = _jsonable(node.params)
    if node.frozen:
        out["frozen"] = True
    if node.lr_factor != 1.0:
        out["lr_factor"] = node.lr_factor
    if node.ui:
        out["ui"] = _jsonable(node.ui)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def graph_to_json(graph: Graph) -> str:
    return json.dumps(graph_to_dict(graph), indent=1, ensure_ascii=False) + "\n"


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write atomically: a temporary file beside the target, flushed, then renamed over it."""
    atomic_write_text(Path(path), graph_to_json(graph))


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the new one, never half.

    The temporary file is created with the process umask like any new file (mkstemp would
    make it private, 0600) and takes over the permissions of the file it replaces.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
