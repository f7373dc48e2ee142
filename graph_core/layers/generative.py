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


def _inferred_by_graph(params, inputs):
    raise ShapeError("inferred from its block by the graph")


register(LayerSpec(
    type="Discriminator", category="generative", title="Discriminator (GAN)",
    help="Scores samples as real or fake with the sub-graph named in block. Its presence makes the "
         "graph a GAN: everything feeding 'fake' is the generator, trained to fool this critic, "
         "while 'real' comes from the data.",
    inputs=(PortSpec("real", help="samples from the data"), PortSpec("fake", help="the generator's samples")),
    outputs=(PortSpec("score", optional=True, help="the discriminator's logit for the fake samples"),),
    params=(ParamSpec("block", "text", "discriminator", "name of the sub-graph that scores one sample"),),
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
