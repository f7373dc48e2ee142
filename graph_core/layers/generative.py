"""Reparametrisation (VAE), Discriminator (GAN) and Block (a named sub-graph).

Discriminator and Block run a sub-graph from the file's `blocks`; their ports and shapes
depend on that sub-graph, so `graph_core.shapes` infers them, not the spec's own function.
"""

from __future__ import annotations

from ..specs import (
    Inference,
    LayerSpec,
    ParamSpec,
    PortSpec,
    ShapeError,
    TensorType,
    format_shape,
    register,
)
from ._helpers import p_float, single


def _infer_reparam(params, inputs):
    mu, logvar = single(inputs, "mu"), single(inputs, "logvar")
    if mu.shape != logvar.shape:
        raise ShapeError(f"mu {format_shape(mu.shape)} and logvar {format_shape(logvar.shape)} must have "
                         "the same shape: give both Dense layers the same out_features", "logvar")
    return Inference({"z": TensorType(mu.shape)})


register(LayerSpec(
    type="Reparametrisation", category="generative", title="Reparametrisation (VAE)",
    help="The reparametrisation trick: z = mu + sigma·eps with eps ~ N(0, I). Sampling becomes a "
         "sum with fixed noise, so gradients flow into mu and logvar; a beta·KL term pulls the "
         "latent distribution towards N(0, I). In eval mode z = mu.",
    inputs=(PortSpec("mu", help="the latent mean"), PortSpec("logvar", help="the latent log-variance")),
    outputs=(PortSpec("z", help="a sample of the latent code"),),
    params=(p_float("beta", 1.0, "weight of the KL term (beta-VAE: >1 disentangles, <1 sharpens)", 0.0),),
    infer=_infer_reparam,
    forward=lambda m, a, p: f"{m}({a['mu'][0]}, {a['logvar'][0]})",
))


def judged_sample(inputs: dict[str, list[TensorType]]) -> TensorType:
    """What a Discriminator's block receives: the sample, or with a `condition` wired the
    condition and the sample side by side along the channels (axis 0 here, dim=1 with the batch),
    condition first as in pix2pix's `torch.cat((real_A, fake_B), 1)`.

    Raises:
        ShapeError: real and fake differ, or the condition does not line up with the sample.
    """
    real, fake = inputs["real"][0], inputs["fake"][0]
    if real.shape != fake.shape:
        raise ShapeError(f"real samples {format_shape(real.shape)} and generated samples "
                         f"{format_shape(fake.shape)} must have the same shape", "fake")
    conditions = inputs.get("condition") or []
    if not conditions:
        return fake
    cond = conditions[0]
    if cond.dtype != "float32":
        raise ShapeError(f"the condition is {cond.dtype} {format_shape(cond.shape)}; the discriminator takes "
                         "numbers to stack beside the sample: wire the mask through a OneHot", "condition")
    if cond.rank != fake.rank or cond.rank < 2 or cond.shape[1:] != fake.shape[1:]:
        raise ShapeError(f"the condition {format_shape(cond.shape)} must have the sample's size "
                         f"{format_shape(fake.shape[1:])} with its own channels first, to lie beside the "
                         f"sample {format_shape(fake.shape)} as extra channels", "condition")
    return TensorType((cond.shape[0] + fake.shape[0], *fake.shape[1:]), fake.dtype)


def _inferred_by_graph(params, inputs):
    raise ShapeError("inferred from its block by the graph")


register(LayerSpec(
    type="Discriminator", category="generative", title="Discriminator (GAN)",
    help="Scores samples as real or fake with the sub-graph named in block. Its presence makes the "
         "graph a GAN: everything feeding 'fake' is the generator, trained to fool this critic, "
         "while 'real' comes from the data. Wire 'condition' (what the generator reads: pix2pix's "
         "mask) and the block judges pairs: it receives the condition and the sample side by side "
         "as channels, so a painting must fit its own mask to pass as real.",
    inputs=(PortSpec("real", help="samples from the data"), PortSpec("fake", help="the generator's samples"),
            PortSpec("condition", optional=True,
                     help="optional: what the generator reads (a data Input, or its OneHot); the block then "
                          "scores concat(condition, sample) along the channels — a conditional GAN")),
    outputs=(PortSpec("score", optional=True, help="the discriminator's logit for the fake samples"),),
    params=(ParamSpec("block", "text", "discriminator", "name of the sub-graph that scores one sample "
                      "(or one (condition, sample) pair)"),),
    infer=_inferred_by_graph,
    onnx=None,
))

register(LayerSpec(
    type="Block", category="block", title="Block",
    help="A named sub-graph used as one node — a VGG stage, an encoder. Its inner Input nodes are "
         "its input ports and its inner Output nodes its output ports; open it to edit inside.",
    inputs=(), outputs=(),
    params=(ParamSpec("block", "text", "block", "name of the sub-graph in this file's blocks"),),
    infer=_inferred_by_graph,
))
