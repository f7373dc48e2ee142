"""Emitting one nn.Module class for one (sub-)graph: `__init__`, `forward`, `kl_loss`.

One branch per node kind appends one line (torch.fx's `emit` pattern). Ordinary layers come
entirely from their LayerSpec's `module` and `forward` functions, so a new layer type needs
no edit here; Input, Output, Block, Reparametrisation, MaxPool-with-indices and MaxUnpool
are the kinds handled specially. Every identifier comes from a `NameAllocator`; every other
token is either fixed text or a value the spec validated and formatted.

forward's variables follow hand-written PyTorch: a linear chain reuses one variable
(`x = self.conv1(image)`, `x = self.relu1(x)`), so each intermediate tensor is dropped as
soon as the next line no longer needs it, and only autograd's saved tensors stay alive;
values read further on keep their node's name (`ClassEmitter._plan`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import graph_core as gc
from graph_core import Graph, Node, NodeShapes, TensorType

from .names import NameAllocator

INDENT = "    "
# Stands for the shared chain variable until every other name of the class is known; the NUL
# characters cannot occur in allocator output or in validated values, so replacing it is exact.
CHAIN = "\0chain\0"

# A line tag: what graph element a generated line belongs to (None for boilerplate).
Tag = tuple[str, ...] | None


@dataclass
class ClassCode:
    """One emitted class: its lines (each with a tag) and what callers need to know."""

    name: str
    lines: list[tuple[str, Tag]] = field(default_factory=list)
    paths: dict[tuple[str, ...], str] = field(default_factory=dict)  # node-id path -> attribute path
    has_kl: bool = False
    input_ids: list[str] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    output_ids: list[str] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)  # helper classes/functions its layers need


@dataclass(frozen=True)
class SubModule:
    """A class another class instantiates (a Block's class, the GAN's generator...)."""

    class_name: str
    paths: dict[tuple[str, ...], str]
    has_kl: bool
    input_ids: list[str]
    output_ids: list[str]


# Returns the class for a block fed with the given tensors (emitting it on first use).
BlockResolver = Callable[[str, Mapping[str, TensorType]], SubModule]


def shape_comment(t: TensorType | None) -> str:
    return "?" if t is None else gc.format_shape(t.shape)


def literal(value: object) -> str:
    """A validated number, bool, None or tuple of them as Python source."""
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    raise TypeError(f"cannot emit {value!r} as a literal")


def string_literal(text: str) -> str:
    """A Python string literal that is pure ASCII and evaluates back to `text` exactly."""
    return ascii(str(text))


class ClassEmitter:
    """Builds one class from an ordered list of nodes of one graph.

    Args:
        name: the class name (already allocated).
        graph: the graph the nodes belong to.
        shapes: `infer_shapes` of that graph.
        order: the node ids to emit, in topological order.
        tag: turns a node id into the tag recorded for its lines.
        blocks: resolves Block nodes to their classes.
        doc: the class docstring's first line.
    """

    def __init__(self, name: str, graph: Graph, shapes: Mapping[str, NodeShapes], order: Sequence[str],
                 tag: Callable[[str], Tag], blocks: BlockResolver, doc: str) -> None:
        self.code = ClassCode(name)
        self.graph, self.shapes, self.order, self.tag, self.blocks = graph, shapes, order, tag, blocks
        self.doc = doc
        self.names = NameAllocator({"causal_mask"})  # a helper function of sequence models
        self.var: dict[tuple[str, str], str] = {}  # (node id, output port) -> local variable
        self.init: list[tuple[str, Tag]] = []
        self.body: list[tuple[str, Tag]] = []
        self.params: list[str] = []
        self.keep_eval: list[tuple[str, Tag]] = []  # frozen nodes whose statistics stay fixed
        self.kl_terms: list[tuple[str, Tag]] = []
        self.wired_indices = {e.src[0] for e in graph.edges if e.src[1] == "indices"}
        self.class_attrs: list[str] = []
        self.chain: set[tuple[str, str]] = set()  # values held in the shared variable (see _plan)
        self.chain_name = CHAIN  # a placeholder until finish() names it
        self._input_readers: dict[str, list[int | None]] = {}
        self._first_chain_line = 0
        self._mask_lines = 0  # padding masks computed at the top of forward

    # ---- public -----------------------------------------------------------------------

    def inject(self, node_id: str, var: str) -> None:
        """Treat a node's output as already computed into local `var` (a forward argument)."""
        self.var[(node_id, "out")] = var

    def add_submodule(self, attr_text: str, sub: SubModule, node_id: str, args: Sequence[str],
                      outputs: Sequence[str], comment: str, path: tuple[str, ...],
                      exact: bool = False, keep: Sequence[bool] = ()) -> list[str]:
        """Instantiate `sub` as an attribute and call it once in forward; returns result names.

        With `exact`, `attr_text` is used as is (already allocated, or a fixed name such as
        "generator"); an output whose `keep` flag is set is used as is (the attribute's own
        name, or the shared variable), the others are allocated.
        """
        if exact:
            attr = attr_text
            self.names.reserve(attr)
        else:
            attr = self.names.allocate(attr_text)
        tag = self.tag(node_id)
        self.init.append((f"self.{attr} = {sub.class_name}()", tag))
        for inner, p in sub.paths.items():
            self.code.paths[path + inner] = f"{attr}.{p}"
        if path:
            self.code.paths[path] = attr
        if sub.has_kl:
            self.kl_terms.append((f"self.{attr}.kl_loss()", tag))
        keep = list(keep) + [False] * (len(outputs) - len(keep))
        results = [o if keep[k] else self.names.allocate(o) for k, o in enumerate(outputs)]
        self.body.append((f"{', '.join(results)} = self.{attr}({', '.join(args)})  # {comment}", tag))
        return results

    def emit_nodes(self, special: Mapping[str, Callable[[], None]] | None = None,
                   skip: Collection[str] = (), extra_uses: Mapping[tuple[str, str], Sequence[str]] | None = None,
                   ) -> None:
        """Emit every node in order.

        Args:
            special: node ids -> callbacks that emit that node's one forward line instead.
            skip: node ids that get no line in this class (computed elsewhere).
            extra_uses: value (node id, port) -> ids of nodes whose line reads it although no
                wire says so (the GAN's generator call reads the noise inputs).
        """
        special = special or {}
        self._plan(special, set(skip), extra_uses or {})
        for nid in self.order:
            if nid in skip:
                continue
            if nid in special:
                special[nid]()
            else:
                self._emit_node(self.graph.nodes[nid])

    def finish(self, returns: Sequence[tuple[str, str]], as_dict: bool, kl_method: bool = False) -> ClassCode:
        """Assemble the class; `returns` lists (key, expression) pairs in order."""
        if self.chain:
            chain = self._name_chain()
            self.body = [(text.replace(CHAIN, chain), tag) for text, tag in self.body]
            returns = [(key, expr.replace(CHAIN, chain)) for key, expr in returns]
            self.var = {value: chain if var == CHAIN else var for value, var in self.var.items()}
            self.chain_name = chain
        lines = self.code.lines
        lines.append((f"class {self.code.name}(nn.Module):", None))
        lines.append((f'{INDENT}"""{self.doc}', None))
        lines.append(("", None))
        lines.extend((f"{INDENT}{text}", None) for text in self._doc_io(returns, as_dict))
        lines.append((f'{INDENT}"""', None))
        lines.append(("", None))
        if self.class_attrs:
            lines.extend((f"{INDENT}{t}", None) for t in self.class_attrs)
            lines.append(("", None))
        lines.append((f"{INDENT}def __init__(self):", None))
        lines.append((f"{INDENT * 2}super().__init__()", None))
        lines.extend((f"{INDENT * 2}{t}", g) for t, g in self.init)
        lines.append(("", None))
        lines.append((f"{INDENT}def forward(self{''.join(', ' + p for p in self.params)}):", None))
        lines.extend((f"{INDENT * 2}{t}", g) for t, g in self.body)
        lines.extend(self._return_lines(returns, as_dict))
        if self.keep_eval:
            self._emit_train_override()
        if kl_method or self.kl_terms:
            self._emit_kl()
        return self.code

    # ---- nodes ------------------------------------------------------------------------

    def _emit_node(self, node: Node) -> None:
        if node.type == "Input":
            self._emit_input(node)
        elif node.type == "Output":
            return  # heads are the return statement
        elif node.type == "Block":
            self._emit_block(node)
        elif node.type == "Discriminator":
            raise ValueError("a Discriminator is compiled by the GAN emitter, not inside a class")
        else:
            self._emit_layer(node)

    def _plan(self, special: Collection[str], skip: set[str],
              extra_uses: Mapping[tuple[str, str], Sequence[str]]) -> None:
        """Decide which values share one variable, so that dead tensors are freed early.

        Every local of forward keeps its tensor alive until forward returns. A value whose
        only reader is the very next line goes into one shared variable (`x`, as hand-written
        PyTorch does), so the next such assignment drops it; autograd still holds what its
        backward needs. Values read later (skip connections, fan-outs, pool indices), read by
        a Reparametrisation (mu, logvar), produced by one (z), or returned keep their node's
        name: each such name is assigned once, so it is never overwritten before its last use.
        The shared variable is named in `finish`, after every other name: attribute names (and
        so state_dict keys) are what they would be without it.
        """
        g = self.graph
        lines = [nid for nid in self.order
                 if nid not in skip and g.nodes[nid].type not in ("Input", "Output")]
        pos = {nid: k for k, nid in enumerate(lines)}
        uses: dict[tuple[str, str], list[str]] = {}
        for e in g.edges:
            uses.setdefault(e.src, []).append(e.dst[0])
        for value, readers in extra_uses.items():
            uses.setdefault(value, []).extend(readers)
        ports: dict[str, list[str]] = {}
        for nid, port in uses:
            ports.setdefault(nid, []).append(port)
        for nid in lines:
            used = ports.get(nid, [])
            if nid in special or g.nodes[nid].type == "Reparametrisation":
                continue
            if nid in self.wired_indices and g.nodes[nid].type.startswith("MaxPool"):
                used = ["out"]
            if len(used) != 1 or len(uses.get((nid, used[0]), [])) != 1:
                continue
            if self._names_its_results(nid, used[0]):
                continue
            reader = uses[(nid, used[0])][0]
            if pos.get(reader) == pos[nid] + 1 and g.nodes[reader].type != "Reparametrisation":
                self.chain.add((nid, used[0]))
        if self.chain:
            self._first_chain_line = min(pos[nid] for nid, _ in self.chain)
        for nid in self.order:
            if g.nodes[nid].type == "Input":
                self._input_readers[nid] = [pos.get(r) for r in uses.get((nid, "out"), [])]

    def _names_its_results(self, node_id: str, port: str) -> bool:
        """A state or attention map keeps its own name (`encoder_h`) even when read once, next."""
        node = self.graph.nodes[node_id]
        if not gc.has_spec(node.type):
            return False
        spec = gc.get_spec(node.type)
        return spec.results is not None and port != spec.outputs[0].name

    def _name_chain(self) -> str:
        """The shared variable's name: `x` unless a name of this class already is `x`.

        An input called x that nothing reads once the chain starts becomes the chain itself
        (`x = self.fc1(x)`); otherwise the allocator picks a fresh name (`x_2`).
        """
        first = self._first_chain_line
        for nid, var in zip(self.code.input_ids, self.code.input_names):
            readers = self._input_readers.get(nid, [])
            if var == "x" and readers and all(r is not None and r <= first for r in readers):
                return var
        return self.names.allocate("x")

    def var_for(self, node_id: str, port: str, name: str) -> str:
        """The variable a node's output goes into: the shared one, or `name`."""
        return self.chain_name if (node_id, port) in self.chain else name

    def _emit_input(self, node: Node) -> None:
        name = self.names.allocate(node.name, "x")
        self.params.append(name)
        self.code.input_ids.append(node.id)
        self.code.input_names.append(name)
        self.var[(node.id, "out")] = name

    def _emit_block(self, node: Node) -> None:
        info = self.shapes[node.id]
        feed = {port: wires[0] for port, wires in info.inputs.items()}
        sub = self.blocks(str(gc.resolved_params(node)["block"]), feed)
        args = [self.arg(node.id, port) for port in sub.input_ids]
        name = self.names.allocate(node.name)
        outs = [f"{name}_{o}" for o in sub.output_ids] if len(sub.output_ids) > 1 else [name]
        keep = [len(outs) == 1] * len(outs)  # a single result takes the attribute's name
        for k, o in enumerate(sub.output_ids):
            if (node.id, o) in self.chain:
                outs[k], keep[k] = self.chain_name, True
        comment = ", ".join(shape_comment(info.outputs.get(o)) for o in sub.output_ids)
        results = self.add_submodule(name, sub, node.id, args, outs, comment, (node.id,), exact=True,
                                     keep=keep)
        for port, var in zip(sub.output_ids, results):
            self.var[(node.id, port)] = var
        self._frozen(node, self.code.paths[(node.id,)], stateful=True)

    def _emit_layer(self, node: Node) -> None:
        spec = gc.get_spec(node.type)
        params = gc.resolved_params(node)
        info = self.shapes[node.id]
        tag = self.tag(node.id)
        args = {p.name: [self.var[(e.src[0], e.src[1])] for e in self.graph.edges_into(node.id, p.name)]
                for p in spec.inputs}
        name = self.names.allocate(node.name)
        attr = ""
        if node.type == "Reparametrisation":
            attr = self._attribute(node, name, f"Reparametrisation(beta={literal(params['beta'])})", info)
            self.kl_terms.append((f"self.{attr}.kl", tag))
            self.code.has_kl = True
        elif spec.module is not None:
            ctor = spec.module(params, info.inputs)
            if ctor is not None:
                if node.type.startswith("MaxPool") and node.id in self.wired_indices:
                    ctor = ctor[:-1] + ", return_indices=True)"
                attr = self._attribute(node, name, ctor, info)
        ref = f"self.{attr}" if attr else ""
        helper = spec.helper(params) if spec.helper else ""
        if helper and helper not in self.code.helpers:
            self.code.helpers.append(helper)
        for port in spec.padding_mask:
            mask = self._padding_mask(node.id, port)
            if mask:
                args[f"{port}_padding"] = [mask]
        if node.type.startswith("MaxUnpool"):
            pool = info.inputs["indices"][0].pool
            size = literal(tuple(pool.input_shape[1:])) if pool else "None"
            expr = f"{ref}({args['in'][0]}, {args['indices'][0]}, output_size={size})"
        else:
            expr = spec.forward(ref, args, params)
        ports = [p.name for p in spec.outputs]
        if spec.results is not None:
            self._emit_results(node, name, spec.results(params), expr, info)
            return
        if node.type.startswith("MaxPool") and node.id in self.wired_indices:
            out, idx = self.var_for(node.id, "out", name), self.names.allocate(f"{name}_indices")
            self.var[(node.id, "out")], self.var[(node.id, "indices")] = out, idx
            self.body.append((f"{out}, {idx} = {expr}  # {shape_comment(info.outputs['out'])}", tag))
            return
        var = self.var_for(node.id, ports[0], name) if ports else name
        for port in ports:
            self.var[(node.id, port)] = var
        main = info.outputs.get(ports[0]) if ports else None
        self.body.append((f"{var} = {expr}  # {shape_comment(main)}", tag))

    def _emit_results(self, node: Node, name: str, results: Sequence, expr: str, info: NodeShapes) -> None:
        """One line unpacking a call that returns several values: `x, (enc_h, enc_c) = self.enc(x)`.

        A result nothing reads is `_`; a pair is named and unpacked in place, and the pair's
        text (`(enc_h, enc_c)`) is what a reader of that port receives.
        """
        spec = gc.get_spec(node.type)
        read = {e.src[1] for e in self.graph.edges_from(node.id)}
        targets = []
        for port, result in zip((p.name for p in spec.outputs), results):
            if port not in read:
                targets.append("_")
                continue
            if (node.id, port) in self.chain:
                var = self.chain_name
            elif isinstance(result, tuple):
                var = "(" + ", ".join(self.names.allocate(f"{name}_{r}") for r in result) + ")"
            else:
                var = self.names.allocate(f"{name}_{result}")
            self.var[(node.id, port)] = var
            targets.append(var)
        comment = shape_comment(info.outputs.get(spec.outputs[0].name))
        self.body.append((f"{', '.join(targets)} = {expr}  # {comment}", self.tag(node.id)))

    def _padding_mask(self, node_id: str, port: str) -> str:
        """The variable holding `tokens == pad id` for the tokens behind a port ('' if none).

        Computed once per Input, on the first lines of forward, where the token ids are
        still the untouched argument."""
        found = gc.padding_source(self.graph, node_id, port)
        if found is None or (found[0], "out") not in self.var:
            return ""
        input_id, pad = found
        key = (input_id, f"padding{pad}")
        if key not in self.var:
            tokens = self.var[(input_id, "out")]
            var = self.names.allocate(f"{tokens}_padding")
            self.var[key] = var
            self.body.insert(self._mask_lines, (f"{var} = {tokens} == {pad}  # True at padding (pad id {pad})",
                                                self.tag(input_id)))
            self._mask_lines += 1
        return self.var[key]

    def _attribute(self, node: Node, attr: str, ctor: str, info: NodeShapes) -> str:
        count = info.params or 0
        note = f"  # {count:,} params" if count else ""
        self.init.append((f"self.{attr} = {ctor}{note}", self.tag(node.id)))
        self.code.paths[(node.id,)] = attr
        self._frozen(node, attr, stateful=ctor.startswith("nn.BatchNorm"))
        return attr

    def _frozen(self, node: Node, attr: str, stateful: bool) -> None:
        if not node.frozen:
            return
        tag = self.tag(node.id)
        self.init.append((f"self.{attr}.requires_grad_(False)  # frozen: not trained", tag))
        if stateful:
            self.keep_eval.append((f"self.{attr}.eval()  # frozen: keeps its running statistics", tag))

    def arg(self, node_id: str, port: str) -> str:
        """The local variable holding what arrives on a node's one-wire port."""
        wires = self.graph.edges_into(node_id, port)
        return self.var[(wires[0].src[0], wires[0].src[1])]

    # ---- class tail -------------------------------------------------------------------

    def _doc_io(self, returns: Sequence[tuple[str, str]], as_dict: bool) -> list[str]:
        out = ["Inputs (batch axis first, then):"]
        for nid, pname in zip(self.code.input_ids, self.params):
            t = self.shapes[nid].outputs.get("out")
            dtype = t.dtype if t else "float32"
            out.append(f"{INDENT}{pname}: {shape_comment(t)} {dtype}")
        out.append("Returns a dict, one entry per head:" if as_dict else "Returns:")
        heads = NameAllocator()  # docstrings show identifiers, never raw ids
        for key, expr in returns:
            label = heads.allocate(self.graph.nodes[key].name) if key in self.graph.nodes else expr
            shape = self.shapes[key].main_output if key in self.shapes else None
            out.append(f"{INDENT}{label}: {shape_comment(shape)}")
        return out

    def _return_lines(self, returns: Sequence[tuple[str, str]], as_dict: bool) -> list[tuple[str, Tag]]:
        pad = INDENT * 2
        if not as_dict:
            if len(returns) == 1:
                key, expr = returns[0]
                return [(f"{pad}return {expr}", self.tag(key) if key else None)]
            return [(f"{pad}return {', '.join(e for _, e in returns)}", None)]
        lines: list[tuple[str, Tag]] = [(f"{pad}return {{", None)]
        lines += [(f"{pad}{INDENT}{string_literal(k)}: {e},", self.tag(k)) for k, e in returns]
        lines.append((f"{pad}}}", None))
        return lines

    def _emit_train_override(self) -> None:
        lines = self.code.lines
        lines.append(("", None))
        lines.append((f"{INDENT}def train(self, mode=True):", None))
        lines.append((f"{INDENT * 2}super().train(mode)", None))
        lines.extend((f"{INDENT * 2}{t}", g) for t, g in self.keep_eval)
        lines.append((f"{INDENT * 2}return self", None))

    def _emit_kl(self) -> None:
        lines = self.code.lines
        lines.append(("", None))
        lines.append((f"{INDENT}def kl_loss(self):", None))
        lines.append((f'{INDENT * 2}"""Sum of beta * KL of every Reparametrisation, from the last forward."""',
                      None))
        if not self.kl_terms:
            lines.append((f"{INDENT * 2}return torch.zeros(())", None))
            return
        self.code.has_kl = True
        terms = " + ".join(t for t, _ in self.kl_terms)
        lines.append((f"{INDENT * 2}return {terms}", None))
