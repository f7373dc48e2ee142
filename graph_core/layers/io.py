"""Input and Output nodes: where data enters the network and where losses are taken."""

from __future__ import annotations

from ..specs import Inference, LayerSpec, ParamSpec, PortSpec, ShapeError, register
from ._helpers import IN, p_choice, p_float, single

LOSSES = ("cross_entropy", "bce", "mse", "l1", "none", "nll", "bce_probs")


def _infer_input(params, inputs):
    shape = params["shape"]
    if -1 in shape:
        raise ShapeError("an Input shape cannot contain -1: give every size")
    return Inference({"out": _tensor(shape, params["dtype"])})


def _tensor(shape, dtype):
    from ..specs import TensorType

    return TensorType(tuple(shape), dtype)


def _infer_output(params, inputs):
    x = single(inputs)
    warnings = []
    if params["loss"] in ("cross_entropy", "nll"):
        if x.dtype != "float32":
            raise ShapeError("cross-entropy needs float class scores (logits)", "in")
        if x.rank == 0 or x.shape[0] == 1:
            warnings.append("a one-neuron head with cross-entropy cannot learn anything (the softmax "
                            "of one score is always 1): use loss 'bce' for two classes")
    return Inference({}, 0, tuple(warnings))


INPUT = register(LayerSpec(
    type="Input", category="io", title="Input",
    help="Where a sample enters the network. Shape excludes the batch axis: an RGB image is "
         "(3, H, W), a DNA sequence one-hot encoded is (4, L), a table row is (features,).",
    inputs=(),
    outputs=(PortSpec("out", help="one sample of the field, batched"),),
    params=(
        ParamSpec("shape", "shape", (1, 28, 28), "size of one sample, without the batch axis"),
        p_choice("dtype", "float32", ("float32", "int64"),
                 "float32 for measurements and pixels; int64 for token ids and class indices"),
        p_choice("source", "data", ("data", "noise"),
                 "data reads a dataset field; noise draws N(0, 1) samples — the generator's input in a GAN"),
        ParamSpec("field", "text", "", "dataset field to read (image, label, sequence, ...); empty means the node id"),
    ),
    infer=_infer_input,
))

OUTPUT = register(LayerSpec(
    type="Output", category="io", title="Output head",
    help="A head: compares the network's answer with a target and defines a loss. Cross-entropy "
         "takes raw scores (logits) — one per class, N neurons for N classes, because the softmax "
         "inside the loss needs a score for every class; bce takes one logit per yes/no question; "
         "mse/l1 regress numbers (identity output). After a Sigmoid use bce_probs (it takes "
         "probabilities), after a LogSoftmax nll (it takes log-probabilities).",
    inputs=IN,
    outputs=(),
    params=(
        p_choice("loss", "cross_entropy", LOSSES,
                 "cross_entropy: classes (softmax inside); bce: yes/no (sigmoid inside); "
                 "mse/l1: numbers; none: an output that is returned but not trained; "
                 "nll: classes from a LogSoftmax; bce_probs: yes/no from a Sigmoid (probabilities)"),
        ParamSpec("target", "text", "label",
                  "dataset field to compare with, or input:<node-id> to reconstruct an input (autoencoders)"),
        p_float("weight", 1.0, "this head's share of the total loss", minimum=0.0),
    ),
    infer=_infer_output,
))
