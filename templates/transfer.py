"""Transfer learning from any template whose network has a torchvision twin (vgg, resnet,
mobilenet_v2): the pretrained features load by name from a .pth the user gives and are frozen
(or fine-tuned at a lower rate), and a new small head learns the new classes.

The base template records torchvision's module path of every node; here the replaced classifier's
paths map to None ("deliberately unused"), so the load report lists them as ignored rather than
unexpected. `transfer_vgg`, the earlier VGG-only template, stays buildable under its old name.
"""

from __future__ import annotations

from graph_core import Edge, Graph

from .catalog import TemplateError, p_bool, p_choice, p_float, p_int, p_text, template
from .torchvision_nets import STATE_DICT, mobilenet_v2, resnet
from .vgg import _image_data, transfer_vgg

BASES = ("vgg", "resnet", "mobilenet_v2")
_DEPTHS = {"vgg": (16, (11, 13, 16, 19)), "resnet": (18, (18, 34, 50)), "mobilenet_v2": (0, (0,))}
# The base's classifier: the nodes a new head replaces, and the torchvision paths that were theirs.
_CLASSIFIER = {"resnet": (("fc", "prediction"), ("fc",)),
               "mobilenet_v2": (("classifier_0", "classifier_1", "prediction"), ("classifier.1",))}


@template(
    "transfer",
    "Transfer learning: the feature layers of a network trained on ImageNet (VGG, ResNet or "
    "MobileNetV2, from a torchvision .pth you give) are loaded by name and frozen, and only a new "
    "small head learns the new classes. With fine_tune the features learn too, at a lower "
    "learning rate, so the pretrained filters are adjusted rather than overwritten.",
    p_choice("base", "vgg", BASES, "the pretrained network: vgg, resnet or mobilenet_v2"),
    p_int("depth", 0, "the base's depth: vgg 11/13/16/19, resnet 18/34/50; 0: vgg16, resnet18",
          minimum=0),
    p_bool("batch_norm", False, "vgg only: whether the weights are a _bn variant"),
    p_text("weights", "", "path of the torchvision state dict (.pth); empty: choose it later"),
    p_int("in_channels", 1, "image channels; anything but 3 gets a learned 1×1 conv to RGB"),
    p_int("input_size", 32, "height and width of the square image (at least 32)", minimum=32),
    p_int("num_classes", 10, "classes of the new task"),
    p_int("head_width", 256, "neurons in the new head's hidden layer"),
    p_float("dropout", 0.5, "dropout in the new head", maximum=0.9),
    p_bool("fine_tune", False, "train the pretrained layers too (at lr × fine_tune_lr_factor)"),
    p_float("fine_tune_lr_factor", 0.1, "learning-rate factor of the pretrained layers when fine-tuning"),
)
def transfer(base: str, depth: int, batch_norm: bool, weights: str, in_channels: int, input_size: int,
             num_classes: int, head_width: int, dropout: float, fine_tune: bool,
             fine_tune_lr_factor: float) -> Graph:
    default, allowed = _DEPTHS[base]
    depth = depth or default
    if depth not in allowed:
        raise TemplateError(f"transfer: depth {depth} does not exist for {base} "
                            f"(use {', '.join(str(d) for d in allowed if d)})")
    if base == "vgg":
        return _transfer_vgg(depth, batch_norm, weights, in_channels, input_size, num_classes, head_width,
                             dropout, fine_tune, fine_tune_lr_factor)
    if base == "resnet":
        graph = resnet(depth=depth, in_channels=3, input_size=input_size, num_classes=num_classes, base_width=64)
        last = "flatten"
    else:
        graph = mobilenet_v2(in_channels=3, input_size=input_size, num_classes=num_classes, width_mult=1.0,
                             dropout=0.2)
        last = "flatten"
    graph.name = f"transfer_{graph.name}"
    replaced, torch_paths = _CLASSIFIER[base]
    for nid in replaced:
        del graph.nodes[nid]
    graph.edges = [e for e in graph.edges if e.src[0] not in replaced and e.dst[0] not in replaced]
    for node in graph.nodes.values():
        if node.type != "Input":
            node.frozen = not fine_tune
            node.lr_factor = fine_tune_lr_factor if fine_tune else 1.0
    if in_channels != 3:
        _rgb_adapter(graph, in_channels)
    _head(graph, last, head_width, dropout, num_classes)
    keys = dict(graph.training["init_weights"]["keys"])
    keys.update(dict.fromkeys(torch_paths))
    graph.data = _image_data(in_channels, input_size)
    graph.training = {"optimizer": "adam", "lr": 0.001, "epochs": 5, "batch_size": 64,
                      "init_weights": {"path": weights, "format": STATE_DICT, "keys": keys}}
    return graph


def _rgb_adapter(graph: Graph, in_channels: int) -> None:
    """A learned 1×1 convolution maps the image's channels to the 3 the pretrained filters expect."""
    from graph_core import Node

    image = graph.nodes["image"]
    image.params["shape"] = [in_channels, *image.params["shape"][1:]]
    ui = {"x": image.ui.get("x", 0), "y": image.ui.get("y", 0) + 130}
    graph.nodes["to_rgb"] = Node("to_rgb", "Conv2d", {"out_channels": 3, "kernel_size": 1}, ui=ui)
    graph.edges = [Edge(("to_rgb", "out"), e.dst) if e.src[0] == "image" else e for e in graph.edges]
    graph.edges.append(Edge(("image", "out"), ("to_rgb", "in")))


def _head(graph: Graph, last: str, width: int, dropout: float, num_classes: int) -> None:
    from graph_core import Node

    x, y = graph.nodes[last].ui.get("x", 0), graph.nodes[last].ui.get("y", 0)
    chain = [("head_fc", "Dense", {"out_features": width}), ("head_relu", "ReLU", {}),
             ("head_dropout", "Dropout", {"p": dropout}), ("head_out", "Dense", {"out_features": num_classes}),
             ("prediction", "Output", {"loss": "cross_entropy", "target": "label"})]
    prev = last
    for k, (nid, type_name, params) in enumerate(chain, 1):
        graph.nodes[nid] = Node(nid, type_name, params, ui={"x": x + 240 * k, "y": y})
        graph.edges.append(Edge((prev, "out"), (nid, "in")))
        prev = nid


def _transfer_vgg(depth: int, batch_norm: bool, weights: str, in_channels: int, input_size: int,
                  num_classes: int, head_width: int, dropout: float, fine_tune: bool,
                  fine_tune_lr_factor: float) -> Graph:
    """The VGG base: transfer_vgg's graph, its weights loaded by name (a torchvision state dict)."""
    graph = transfer_vgg(depth, batch_norm, weights, in_channels, input_size, num_classes, head_width,
                         dropout, fine_tune, fine_tune_lr_factor)
    graph.training["init_weights"]["format"] = STATE_DICT
    return graph
