"""The fuzz harness: mutate every template's file, run it through the commands a user runs, and
judge what came back.

A case is a template's file (small sizes) plus a few mutations: parameters set to hostile values
(huge, negative, fractional, wrong types), nodes dropped or retyped, wires dropped, duplicated
or pointed elsewhere, hostile text in names, ids and settings, deep nesting, damaged bytes.
`run_case` passes the file through `validate`, `summary` and `codegen` as the CLI runs them and
records a failure when a command raises (a traceback), when a refusal is not one line, or when
a message cannot be printed; a file that validates with no error must compile and run one
forward and backward pass on a batch of 2.

The mutations draw from a `Chooser`, so the same code runs under hypothesis (tests/fuzz) and
under a seeded `random.Random` (benchmarks/fuzz_long.py, which must count failures, not stop
at the first one).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import graph_core as gc
import templates

HOSTILE_TEXT = ["", " ", "\x00", "a\nb", "\r\n", "\t", "\udcff", "\ud83d\ude00", "\u202eevil", "x" * 5000,
                "../../etc/passwd", "__import__('os').system('touch /tmp/netwright_pwned')", "'''", '"""',
                "None", "class", "self", "forward", "1abc", "a.b", "a-b", "con", "ümlaut", "\\", "{}", "%s",
                "x\u2028y", "\x1b[31mred"]
HOSTILE_NUMBERS = [0, -1, 1, 2, 3, 7, 10**9, 2**31, 2**63, 10**30, 1e308, -1e308, 1.5, 0.5, 1e-308,
                   float("nan"), float("inf"), -10**9, True, False, None, "", "same", "valid", "x",
                   [], [0], [1, 2], [2, 2, 2], [3, 0], [-1], {"a": 1}]
SMALL_INTS = [1, 2, 3, 4, 5, 8, 16, 17, 33, 100]
DEPTHS = [8, 63, 64, 65, 200, 700, 990, 5000]
#: estimates past which a validated file is not run here (counted, reported, never silent)
RUN_LIMIT_PARAMS = 30_000_000
RUN_LIMIT_ACTIVATIONS = 30_000_000


class Chooser(Protocol):
    def choice(self, options: Sequence[Any]) -> Any: ...
    def integer(self, low: int, high: int) -> int: ...


class RandomChooser:
    """A Chooser on a seeded random.Random (the long profile)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


# ---- the files to mutate ------------------------------------------------------------------

_SMALL = {
    "vgg": {"depth": 11, "classifier_width": 32},
    "transfer_vgg": {"depth": 11, "head_width": 16},
    "segnet": {"image_size": 16, "depth": 2, "base_channels": 4},
    "multiomics_vae": {"omics": "rna:20,methylation:12,protein:6", "hidden": 8},
    "dcgan": {"base_channels": 8},
    "gan": {"hidden": 16},
    "conv_vae": {"channels": 8},
}


def template_docs() -> dict[str, dict]:
    """Every template's file as JSON data, small sizes where the template has them."""
    out = {}
    for t in templates.all_templates():
        try:
            graph = templates.build(t.name, **_SMALL.get(t.name, {}))
        except templates.TemplateError:
            graph = templates.build(t.name)
        out[t.name] = gc.graph_to_dict(graph)
    return out


# ---- mutations ------------------------------------------------------------------------------

@dataclass
class Case:
    template: str
    doc: Any
    steps: list[str] = field(default_factory=list)
    nest: int = 0           # deep nesting spliced in as text (json.dumps would recurse)
    damage: tuple[int, str] | None = None  # (position, replacement) applied to the text

    def text(self) -> str:
        body = json.dumps(self.doc, ensure_ascii=True)
        if self.nest:
            body = body.replace('"@@NEST@@"', '{"a": ' * self.nest + "[]" + "}" * self.nest, 1)
        if self.damage is not None:
            pos, repl = self.damage
            pos = min(pos, len(body))
            body = body[:pos] + repl + body[pos + 1:]
        return body


def _graphs(doc: dict) -> list[dict]:
    """The top level and every block: each a dict with nodes and edges lists (when well formed)."""
    out = [doc]
    blocks = doc.get("blocks")
    if isinstance(blocks, dict):
        out += [b for b in blocks.values() if isinstance(b, dict)]
    return [g for g in out if isinstance(g.get("nodes"), list) and isinstance(g.get("edges"), list)]


def _pick_node(c: Chooser, doc: dict) -> tuple[dict, dict] | None:
    graphs = [g for g in _graphs(doc) if any(isinstance(n, dict) for n in g["nodes"])]
    if not graphs:
        return None
    g = c.choice(graphs)
    return g, c.choice([n for n in g["nodes"] if isinstance(n, dict)])


def _param_names(node: dict) -> list[str]:
    t = node.get("type")
    names = [p.name for p in gc.get_spec(t).params] if isinstance(t, str) and gc.has_spec(t) else []
    return names + list(node.get("params", {}) if isinstance(node.get("params"), dict) else []) + ["bogus"]


def _ports(node_type: Any, side: str) -> list[str]:
    if isinstance(node_type, str) and gc.has_spec(node_type):
        spec = gc.get_spec(node_type)
        return [p.name for p in (spec.inputs if side == "dst" else spec.outputs)] or ["in"]
    return ["in", "out"]


def m_set_param(c: Chooser, case: Case, value_pool: Sequence[Any]) -> None:
    picked = _pick_node(c, case.doc)
    if picked is None:
        return
    _, node = picked
    name = c.choice(_param_names(node))
    value = c.choice(value_pool)
    if not isinstance(node.get("params"), dict):
        node["params"] = {}
    node["params"][name] = value
    case.steps.append(f"{node.get('id')!r}.params.{name} = {value!r:.40}")


def m_legal_param(c: Chooser, case: Case) -> None:
    """A value the parameter's kind admits: the edits a careless user makes in the inspector."""
    picked = _pick_node(c, case.doc)
    if picked is None:
        return
    _, node = picked
    t = node.get("type")
    if not (isinstance(t, str) and gc.has_spec(t) and gc.get_spec(t).params):
        return
    p = c.choice(gc.get_spec(t).params)
    if p.kind == "choice":
        value: Any = c.choice(p.choices)
    elif p.kind == "bool":
        value = c.choice([True, False])
    elif p.kind == "float":
        value = c.choice([0.0, 0.1, 0.5, 0.9, 1.0, 2.0])
    elif p.kind == "ints":
        value = c.choice(SMALL_INTS + [[2, 3], [1, 1], [3, 1]] + list(p.words))
    elif p.kind == "shape":
        value = c.choice([[1], [4], [2, 8], [1, 8, 8], [3, 16, 16], [16, -1], [2, 2, 2, 2]])
    elif p.kind == "int":
        value = c.choice(SMALL_INTS + [0, -1])
    else:
        value = c.choice(["label", "image", "x", ""])
    if not isinstance(node.get("params"), dict):
        node["params"] = {}
    node["params"][p.name] = value
    case.steps.append(f"{node.get('id')!r}.params.{p.name} = {value!r}")


def m_drop_param(c: Chooser, case: Case) -> None:
    picked = _pick_node(c, case.doc)
    if picked and isinstance(picked[1].get("params"), dict) and picked[1]["params"]:
        name = c.choice(sorted(picked[1]["params"]))
        del picked[1]["params"][name]
        case.steps.append(f"drop {picked[1].get('id')!r}.params.{name}")


def m_retype(c: Chooser, case: Case) -> None:
    picked = _pick_node(c, case.doc)
    if picked:
        new = c.choice([s.type for s in gc.all_specs()] + ["Nope", 7])
        picked[1]["type"] = new
        case.steps.append(f"{picked[1].get('id')!r}.type = {new!r}")


def m_drop_node(c: Chooser, case: Case) -> None:
    picked = _pick_node(c, case.doc)
    if not picked:
        return
    g, node = picked
    g["nodes"].remove(node)
    keep_wires = c.choice([False, False, True])
    if not keep_wires:
        g["edges"] = [e for e in g["edges"] if not (isinstance(e, dict) and node.get("id") in
                                                    (_end(e.get("src")), _end(e.get("dst"))))]
    case.steps.append(f"drop node {node.get('id')!r}" + (" keeping its wires" if keep_wires else ""))


def _end(end: Any) -> Any:
    return end[0] if isinstance(end, list) and end else end


def m_edge(c: Chooser, case: Case) -> None:
    graphs = [g for g in _graphs(case.doc) if g["edges"]]
    if not graphs:
        return
    g = c.choice(graphs)
    k = c.integer(0, len(g["edges"]) - 1)
    edge = g["edges"][k]
    what = c.choice(["drop", "duplicate", "rewire", "rewire", "reverse", "mangle"])
    if what == "drop":
        del g["edges"][k]
    elif what == "duplicate":
        g["edges"].insert(k, json.loads(json.dumps(edge)))
    elif what == "reverse" and isinstance(edge, dict):
        edge["src"], edge["dst"] = edge.get("dst"), edge.get("src")
    elif what == "rewire" and isinstance(edge, dict):
        side = c.choice(["src", "dst"])
        nodes = [n for n in g["nodes"] if isinstance(n, dict)]
        if nodes:
            target = c.choice(nodes)
            edge[side] = [target.get("id"), c.choice(_ports(target.get("type"), side) + ["indices", "zz"])]
    else:
        g["edges"][k] = c.choice([{}, {"src": "a"}, [1, 2], "x -> y", {"src": [1, 2], "dst": None}])
    case.steps.append(f"edge {k}: {what}")


def m_insert_node(c: Chooser, case: Case) -> None:
    """Split a wire with a node of a random type (often a perfectly reasonable edit)."""
    graphs = [g for g in _graphs(case.doc) if g["edges"]]
    if not graphs:
        return
    g = c.choice(graphs)
    edge = c.choice(g["edges"])
    if not isinstance(edge, dict) or not isinstance(edge.get("dst"), list):
        return
    spec = c.choice(gc.all_specs())
    nid = f"fuzz_{len(g['nodes'])}"
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.kind in ("int", "ints") and c.choice([True, False]):
            params[p.name] = c.choice(SMALL_INTS)
    g["nodes"].append({"id": nid, "type": spec.type, "params": params})
    old_dst = edge["dst"]
    edge["dst"] = [nid, spec.inputs[0].name if spec.inputs else "in"]
    g["edges"].append({"src": [nid, spec.outputs[0].name if spec.outputs else "out"], "dst": old_dst})
    case.steps.append(f"insert {spec.type} {params} before {old_dst}")


def m_text(c: Chooser, case: Case) -> None:
    text = c.choice(HOSTILE_TEXT)
    where = c.choice(["graph name", "node name", "node id", "ui key", "training", "data", "description",
                      "block name"])
    doc = case.doc
    if where == "graph name":
        doc["name"] = text
    elif where == "description":
        doc["description"] = text
    elif where in ("training", "data") and isinstance(doc.get(where), dict):
        key = c.choice(sorted(doc[where]) + [text])
        doc[where][key] = c.choice([text, c.choice(HOSTILE_NUMBERS)])
    elif where == "block name" and isinstance(doc.get("blocks"), dict) and doc["blocks"]:
        old = c.choice(sorted(doc["blocks"]))
        doc["blocks"][text] = doc["blocks"].pop(old)
        for g in _graphs(doc):
            for n in g["nodes"]:
                if isinstance(n, dict) and isinstance(n.get("params"), dict) and n["params"].get("block") == old:
                    n["params"]["block"] = text
    else:
        picked = _pick_node(c, doc)
        if not picked:
            return
        g, node = picked
        if where == "node name":
            node["name"] = text
        elif where == "ui key":
            node["ui"] = {text: c.choice(HOSTILE_NUMBERS)}
        else:
            old = node.get("id")
            node["id"] = text
            for e in g["edges"]:
                for side in ("src", "dst"):
                    if isinstance(e, dict) and isinstance(e.get(side), list) and e[side] and e[side][0] == old:
                        e[side][0] = text
    case.steps.append(f"{where} = {text!r:.40}")


def m_nest(c: Chooser, case: Case) -> None:
    picked = _pick_node(c, case.doc)
    if picked:
        picked[1]["ui"] = "@@NEST@@"
        case.nest = c.choice(DEPTHS)
        case.steps.append(f"{picked[1].get('id')!r}.ui nested {case.nest} deep")


def m_top(c: Chooser, case: Case) -> None:
    key = c.choice(["schema_version", "format", "nodes", "edges", "blocks", "training", "data"])
    value = c.choice([0, 2, -1, "1", None, [], {}, "netwright.graph", 1.0, True])
    case.doc[key] = value
    case.steps.append(f"top {key} = {value!r}")


def m_damage(c: Chooser, case: Case) -> None:
    pos = c.integer(0, 4000)
    repl = c.choice(["", "{", "}", "]", ",", '"', "\\", "\x00", "9" * 400, "\udcff", "NaN", "\\ud800"])
    case.damage = (pos, repl)
    case.steps.append(f"text[{pos}] -> {repl!r:.20}")


MUTATIONS: list[tuple[int, Callable[[Chooser, Case], None]]] = [
    (10, m_legal_param),
    (4, lambda c, case: m_set_param(c, case, HOSTILE_NUMBERS)),
    (2, m_drop_param), (2, m_retype), (2, m_drop_node), (4, m_edge), (3, m_insert_node),
    (4, m_text), (1, m_nest), (1, m_top), (1, m_damage),
]
_WEIGHTED = [fn for weight, fn in MUTATIONS for _ in range(weight)]


def make_case(c: Chooser, docs: dict[str, dict]) -> Case:
    name = c.choice(sorted(docs))
    case = Case(name, json.loads(json.dumps(docs[name])))
    for _ in range(c.integer(1, 3)):
        c.choice(_WEIGHTED)(c, case)
    return case


# ---- running a case -------------------------------------------------------------------------

@dataclass
class Outcome:
    loaded: bool = False
    validated: bool = False      # loaded and gc.validate found no error
    ran: bool = False            # ... and one forward + backward pass ran
    too_big: bool = False        # validated, but too large to run on this machine
    failures: list[str] = field(default_factory=list)


def run_case(case: Case, workdir: Path, forward: bool = True) -> Outcome:
    """Pass one case through validate, summary, codegen (as the CLI runs them) and, when it
    validates, a forward and backward pass. Failures are strings naming what went wrong."""
    from netwright.cli import main

    outcome = Outcome()
    path = workdir / "case.json"
    path.write_text(case.text(), encoding="utf-8", errors="surrogatepass")
    for argv in (["validate", str(path)], ["summary", str(path)], ["codegen", str(path)]):
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        except Exception as exc:  # noqa: BLE001 — a traceback is what we are looking for
            outcome.failures.append(f"{argv[0]}: traceback {type(exc).__name__}: {str(exc)[:200]} "
                                    f"at {_where(exc)}")
            continue
        outcome.failures += _judge(argv[0], code, out.getvalue(), err.getvalue())
    try:
        graph = gc.load_graph(path)
    except gc.GraphLoadError:
        return outcome
    outcome.loaded = True
    try:
        graph_text = gc.graph_to_json(graph)
        graph_text.encode("utf-8")
    except Exception as exc:  # noqa: BLE001
        outcome.failures.append(f"loaded but cannot be saved: {type(exc).__name__}: {exc}")
    shapes = gc.infer_shapes(graph)
    if gc.errors(gc.validate(graph, shapes)):
        return outcome
    outcome.validated = True
    if forward:
        if _too_big(shapes):
            outcome.too_big = True
        else:
            failure = forward_backward(graph)
            outcome.ran = failure is None
            if failure:
                outcome.failures.append(f"validated but crashed: {failure}")
    return outcome


def _judge(command: str, code: int, out: str, err: str) -> list[str]:
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"{command}: exit {code}")
    try:
        (out + err).encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{command}: prints text a UTF-8 terminal cannot show: {err[:120]!r}")
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2 and len(lines) != 1:
        problems.append(f"{command}: refused in {len(lines)} lines: {err[:200]!r}")
    if "Traceback" in err:
        problems.append(f"{command}: traceback text on stderr: {err[-200:]!r}")
    if code == 1 and not lines:
        problems.append(f"{command}: exit 1 without a message")
    return problems


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    return f"{Path(last.filename).name}:{last.lineno}" if last else "?"


def _too_big(shapes: dict) -> bool:
    params = sum(i.params or 0 for i in shapes.values())
    acts = sum(math.prod(t.shape) for i in shapes.values() for t in i.outputs.values() if t is not None)
    return params > RUN_LIMIT_PARAMS or acts > RUN_LIMIT_ACTIVATIONS


def forward_backward(graph: gc.Graph) -> str | None:
    """Compile the graph and run one training-mode forward and backward pass on a batch of 2;
    None when it ran, else the error."""
    import torch

    import codegen
    from codegen.onnx_export import example_inputs
    from codegen.source import int_input_high

    try:
        model = codegen.compile_graph(graph)
        model.train()
        inputs = example_inputs(list(model.generated.input_types), 2, int_input_high(graph), seed=0)
        result = model(*inputs)
        tensors = list(result.values()) if isinstance(result, dict) else [result]
        loss = sum(t.float().sum() for t in tensors if isinstance(t, torch.Tensor))
        if hasattr(model, "kl_loss"):
            loss = loss + model.kl_loss()
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return None
