"""The GAN layout: a generator class, the discriminator's block class, and a graph class
holding both as `self.generator` and `self.discriminator`.

The generator is everything upstream of the Discriminator's `fake` input (from the noise
Input, or a data Input in a conditional GAN); the discriminator is the block named by the
Discriminator node, fed one sample — or, with its `condition` wired (pix2pix), the condition and
the sample concatenated along the channels, so it judges (input, output) pairs. The two share
nothing but the sample shape, so the training loop can give each its own optimizer. The graph's
own forward generates from the noise and returns the score of the fake samples (or what its
Output heads receive, when the score is wired on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import graph_core as gc
from graph_core import Graph
from graph_core.layers.generative import judged_sample

from .classes import ClassCode, ClassEmitter, SubModule, literal, shape_comment

if TYPE_CHECKING:
    from .source import _ModuleWriter


def generator_nodes(graph: Graph) -> set[str]:
    """Ids of the nodes upstream of the Discriminator's `fake` input (inclusive)."""
    disc = next(graph.nodes_of_type("Discriminator"))
    start = graph.edges_into(disc.id, "fake")[0].src[0]
    seen, stack = {start}, [start]
    while stack:
        for e in graph.edges_into(stack.pop()):
            if e.src[0] not in seen:
                seen.add(e.src[0])
                stack.append(e.src[0])
    return seen


def emit_gan_class(writer: _ModuleWriter, name: str) -> tuple[ClassCode, dict]:
    """Emit the generator class and the GAN's graph class; returns the latter and GAN facts."""
    g, shapes = writer.graph, writer.shapes
    disc = next(g.nodes_of_type("Discriminator"))
    fake_src = g.edges_into(disc.id, "fake")[0].src
    sample = shapes[disc.id].inputs["fake"][0]
    judged = judged_sample(shapes[disc.id].inputs)  # the sample, or the (condition, sample) pair
    cond_wires = g.edges_into(disc.id, "condition")
    cond_src = cond_wires[0].src if cond_wires else None
    in_gen = generator_nodes(g)
    from .source import readable_order

    order = readable_order(g)

    gen_name = writer.class_names.allocate_class(f"{g.name}_generator", "Generator")
    data_read = ", ".join(g.nodes[n].name for n in order if n in in_gen and g.nodes[n].type == "Input"
                          and g.nodes[n].params.get("source", "data") != "noise")
    gen = ClassEmitter(gen_name, g, shapes, [n for n in order if n in in_gen], lambda nid: ("node", nid),
                       writer.block_class, f"The generator of {name}: {data_read or 'noise'} -> one sample.")
    gen.emit_nodes()
    gen_code = gen.finish([(fake_src[0], gen.var[fake_src])], as_dict=False)
    writer.classes.append(gen_code)
    gen_sub = SubModule(gen_name, dict(gen_code.paths), gen_code.has_kl, list(gen_code.input_ids), ["sample"])

    block_name = str(gc.resolved_params(disc)["block"])
    inner_input = next(g.blocks[block_name].nodes_of_type("Input")).id
    disc_sub = writer.block_class(block_name, {inner_input: judged})

    main = ClassEmitter(name, g, shapes, order, lambda nid: ("node", nid), writer.block_class,
                        f"The GAN {name}: self.generator makes samples, self.discriminator scores them.")
    latent = shapes[gen_code.input_ids[0]].outputs["out"] if gen_code.input_ids else None
    main.class_attrs = [f"latent_shape = {literal(latent.shape if latent else ())}",
                        f"sample_shape = {literal(sample.shape)}"]
    if cond_src is not None:
        main.class_attrs.append(f"condition_shape = {literal(shapes[cond_src[0]].outputs[cond_src[1]].shape)}"
                                "  # the discriminator judges concat(condition, sample)")

    def call_generator() -> None:
        args = [main.var[(nid, "out")] for nid in gen_code.input_ids]
        node = g.nodes[fake_src[0]]
        (var,) = main.add_submodule("generator", gen_sub, fake_src[0], args, [node.name],
                                    shape_comment(sample), (), exact=True)
        main.var[fake_src] = var

    def call_discriminator() -> None:
        score = shapes[disc.id].outputs.get("score")
        judged_var = main.var[fake_src]
        if cond_src is not None:  # pix2pix: the block judges the (condition, sample) pair
            judged_var = main.names.allocate("pair")
            main.body.append((f"{judged_var} = torch.cat([{main.var[cond_src]}, {main.var[fake_src]}], dim=1)"
                              f"  # {shape_comment(judged)}: the condition beside the sample", main.tag(disc.id)))
        (var,) = main.add_submodule("discriminator", disc_sub, disc.id, [judged_var],
                                    [disc.name], shape_comment(score), (disc.id,), exact=True)
        main.var[(disc.id, "score")] = var

    special = {fake_src[0]: call_generator, disc.id: call_discriminator}
    # The generator's own nodes run inside self.generator; a condition taken from one of them
    # (the generator's OneHot of the mask) is computed again here, for the discriminator.
    skip = {nid for nid in in_gen if g.nodes[nid].type != "Input" and nid != fake_src[0]
            and (cond_src is None or nid != cond_src[0])}
    # The generator call reads the noise inputs, whose wires lead to the skipped nodes.
    reads = {(nid, "out"): [fake_src[0]] for nid in in_gen if g.nodes[nid].type == "Input"}
    if cond_src is not None:  # the pair's line reads the condition too: it keeps its node's name
        reads.setdefault(cond_src, []).append(disc.id)
    main.emit_nodes(special, skip, reads)
    returns, as_dict = writer.output_returns(main)
    if not returns:
        returns = [(disc.id, main.var[(disc.id, "score")])]
    facts = {
        "latent_shape": latent.shape if latent else (),
        "sample_shape": sample.shape,
        "generator_inputs": list(gen_code.input_ids),
        "generator_class": gen_name,
        "discriminator_class": disc_sub.class_name,
        "discriminator_input": inner_input,
        # what the discriminator's block receives: sample_shape, or concat(condition, sample)
        "discriminator_shape": judged.shape,
        "condition_input": cond_src[0] if cond_src is not None else None,
    }
    return main.finish(returns, as_dict, kl_method=True), facts
