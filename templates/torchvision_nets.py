"""ResNet (18, 34, 50) and MobileNetV2 exactly as torchvision writes them.

At 3×224×224 with 1000 classes each graph has torchvision's parameter count, and with the
weights of a torchvision state dict copied in by name it computes the same outputs. Every
residual unit is a Block named after torchvision's module path (`layer2_0`, `features_3`), and
the template records the mapping from torchvision's module paths to node paths (`layer2.0.conv1`
-> `layer2_0/conv1`) in `graph.training["init_weights"]["keys"]`, so a torchvision or timm-style
.pth loads by name (codegen.pretrained) with no guessing.
"""

from __future__ import annotations

from graph_core import Graph, ParamSpec

from .catalog import TemplateError, p_float, p_int, template
from .sketch import Sketch
from .vgg import _image_data

STATE_DICT = "state_dict"
RESNET_UNITS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3))}
RESNET_DEPTH = ParamSpec("depth", "int", 18, "weight layers: 18, 34 or 50",
                         choices=tuple(str(d) for d in RESNET_UNITS))
# MobileNetV2's inverted-residual stages: expansion t, channels c, repeats n, first stride s.
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1))


class _Keys:
    """torchvision module path -> node path, filled while the graph is drawn."""

    def __init__(self) -> None:
        self.keys: dict[str, str | None] = {}

    def add(self, torch_path: str, node_path: str) -> None:
        self.keys[torch_path] = node_path


def _conv_bn(s: Sketch, x: str, conv: str, bn: str, out: int, k: int, stride: int = 1, groups: int = 1,
             keys: _Keys | None = None, torch_conv: str = "", torch_bn: str = "", block: str = "",
             row: float | None = None) -> str:
    """Conv2d (no bias, padding k // 2) -> BatchNorm; records their torchvision paths. `row`: the
    canvas row of both (default: x's)."""
    x = s.then(x, conv, "Conv2d", out_channels=out, kernel_size=k, stride=stride, padding=k // 2,
               groups=groups, bias=False, row=row)
    x = s.then(x, bn, "BatchNorm")
    if keys is not None:
        prefix = f"{block}/" if block else ""
        keys.add(torch_conv, prefix + conv)
        keys.add(torch_bn, prefix + bn)
    return x


def _check_size(input_size: int) -> None:
    if input_size < 32:
        raise TemplateError(f"the network halves the image five times: input_size must be at least 32, "
                            f"got {input_size}")


# ---- ResNet ------------------------------------------------------------------------------


def _residual_unit(name: str, torch_name: str, kind: str, width: int, stride: int, in_ch: int,
                   keys: _Keys) -> tuple[Graph, int]:
    """One BasicBlock or Bottleneck (torchvision's v1.5: the stride sits on the 3×3 conv)."""
    s = Sketch(name)
    x = s.add("x", "Input", 0, shape=[])
    out = width * (4 if kind == "bottleneck" else 1)
    # the convolutions on the row below; the skip runs along row 0 (through the downsample) to the
    # Add, under no card
    if kind == "basic":
        y = _conv_bn(s, x, "conv1", "bn1", width, 3, stride, keys=keys, torch_conv=f"{torch_name}.conv1",
                     torch_bn=f"{torch_name}.bn1", block=name, row=1)
        y = s.then(y, "relu1", "ReLU")
        y = _conv_bn(s, y, "conv2", "bn2", out, 3, keys=keys, torch_conv=f"{torch_name}.conv2",
                     torch_bn=f"{torch_name}.bn2", block=name)
    else:
        y = _conv_bn(s, x, "conv1", "bn1", width, 1, keys=keys, torch_conv=f"{torch_name}.conv1",
                     torch_bn=f"{torch_name}.bn1", block=name, row=1)
        y = s.then(y, "relu1", "ReLU")
        y = _conv_bn(s, y, "conv2", "bn2", width, 3, stride, keys=keys, torch_conv=f"{torch_name}.conv2",
                     torch_bn=f"{torch_name}.bn2", block=name)
        y = s.then(y, "relu2", "ReLU")
        y = _conv_bn(s, y, "conv3", "bn3", out, 1, keys=keys, torch_conv=f"{torch_name}.conv3",
                     torch_bn=f"{torch_name}.bn3", block=name)
    skip = x
    if stride != 1 or in_ch != out:
        s.add("downsample_0", "Conv2d", 1, 0, out_channels=out, kernel_size=1, stride=stride, bias=False)
        s.wire(x, "downsample_0")
        skip = s.then("downsample_0", "downsample_1", "BatchNorm")
        keys.add(f"{torch_name}.downsample.0", f"{name}/downsample_0")
        keys.add(f"{torch_name}.downsample.1", f"{name}/downsample_1")
    total = s.then(y, "add", "Add", row=0)
    s.wire(skip, total)
    z = s.then(total, "relu", "ReLU")
    s.then(z, "y", "Output", loss="none")
    return s.graph, out


@template(
    "resnet",
    "ResNet: each unit adds its input back to what its convolutions computed (a skip connection), "
    "so a deep network only has to learn corrections and its gradients reach the first layers. "
    "At 3×224×224 and 1000 classes this is exactly torchvision's resnet18, resnet34 or resnet50, "
    "and a torchvision .pth loads by name.",
    RESNET_DEPTH,
    p_int("in_channels", 1, "image channels (3 for RGB photos)"),
    p_int("input_size", 32, "height and width of the square image (at least 32)", minimum=32),
    p_int("num_classes", 10, "number of classes (1000 for ImageNet)"),
    p_int("base_width", 64, "channels of the first stage (64 in torchvision; each stage doubles)"),
)
def resnet(depth: int, in_channels: int, input_size: int, num_classes: int, base_width: int) -> Graph:
    _check_size(input_size)
    kind, units = RESNET_UNITS[depth]
    keys = _Keys()
    s = Sketch(f"resnet{depth}")
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    x = _conv_bn(s, x, "conv1", "bn1", base_width, 7, 2, keys=keys, torch_conv="conv1", torch_bn="bn1")
    x = s.then(x, "relu", "ReLU")
    x = s.then(x, "maxpool", "MaxPool2d", kernel_size=3, stride=2, padding=1)
    channels, port = base_width, "out"
    for stage, count in enumerate(units, 1):
        for k in range(count):
            name, stride = f"layer{stage}_{k}", (2 if stage > 1 and k == 0 else 1)
            block, channels = _residual_unit(name, f"layer{stage}.{k}", kind, base_width * 2 ** (stage - 1),
                                             stride, channels, keys)
            s.graph.blocks[name] = block
            x = s.then(x, name, "Block", src_port=port, dst_port="x", block=name)
            port = "y"
    x = s.then(x, "avgpool", "AdaptiveAvgPool2d", src_port=port, output_size=1)
    x = s.then(x, "flatten", "Flatten")
    x = s.then(x, "fc", "Dense", out_features=num_classes)
    keys.add("fc", "fc")
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    graph = s.settings(_image_data(in_channels, input_size), optimizer="adam", lr=0.001, epochs=5,
                       batch_size=64)
    graph.training["init_weights"] = {"path": "", "format": STATE_DICT, "keys": keys.keys}
    return graph


# ---- MobileNetV2 -------------------------------------------------------------------------


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible: round channels to a multiple of 8, never 10 % below v."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def _inverted_residual(name: str, torch_name: str, in_ch: int, out_ch: int, stride: int, t: int,
                       keys: _Keys) -> Graph:
    """Expand (1×1) -> depthwise 3×3 -> project (1×1, linear); a skip when shapes allow."""
    s = Sketch(name)
    x = s.add("x", "Input", 0, shape=[])
    hidden = round(in_ch * t)
    y, k = x, 0
    row = 1 if stride == 1 and in_ch == out_ch else 0  # below the skip's row, when it has one
    if t != 1:
        y = _conv_bn(s, y, "conv_0_0", "conv_0_1", hidden, 1, keys=keys, torch_conv=f"{torch_name}.conv.0.0",
                     torch_bn=f"{torch_name}.conv.0.1", block=name, row=row)
        y = s.then(y, "conv_0_2", "ReLU6")
        k = 1
    y = _conv_bn(s, y, f"conv_{k}_0", f"conv_{k}_1", hidden, 3, stride, groups=hidden, keys=keys,
                 torch_conv=f"{torch_name}.conv.{k}.0", torch_bn=f"{torch_name}.conv.{k}.1", block=name, row=row)
    y = s.then(y, f"conv_{k}_2", "ReLU6")
    y = _conv_bn(s, y, f"conv_{k + 1}", f"conv_{k + 2}", out_ch, 1, keys=keys,
                 torch_conv=f"{torch_name}.conv.{k + 1}", torch_bn=f"{torch_name}.conv.{k + 2}", block=name)
    if stride == 1 and in_ch == out_ch:
        y = s.then(y, "add", "Add", row=0)
        s.wire(x, y)
    s.then(y, "y", "Output", loss="none", row=0)
    return s.graph


@template(
    "mobilenet_v2",
    "MobileNetV2: inverted residuals that widen the channels with a 1×1 convolution, filter each "
    "channel on its own (a depthwise 3×3, far cheaper than a full convolution), and narrow them "
    "again without an activation. At 3×224×224 and 1000 classes this is exactly torchvision's "
    "mobilenet_v2 (3.5 M parameters, 0.30 G multiply-accumulates).",
    p_int("in_channels", 1, "image channels (3 for RGB photos)"),
    p_int("input_size", 32, "height and width of the square image (at least 32)", minimum=32),
    p_int("num_classes", 10, "number of classes (1000 for ImageNet)"),
    p_float("width_mult", 1.0, "multiplies every stage's channels (torchvision's width_mult)", minimum=0.1),
    p_float("dropout", 0.2, "dropout before the classifier", maximum=0.9),
)
def mobilenet_v2(in_channels: int, input_size: int, num_classes: int, width_mult: float,
                 dropout: float) -> Graph:
    _check_size(input_size)
    keys = _Keys()
    s = Sketch("mobilenet_v2")
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    channels = make_divisible(32 * width_mult)
    last = make_divisible(1280 * max(1.0, width_mult))
    x = _conv_bn(s, x, "features_0_0", "features_0_1", channels, 3, 2, keys=keys,
                 torch_conv="features.0.0", torch_bn="features.0.1")
    x = s.then(x, "features_0_2", "ReLU6")
    port, index = "out", 1
    for t, c, n, first_stride in MOBILENET_V2_STAGES:
        out = make_divisible(c * width_mult)
        for k in range(n):
            name = f"features_{index}"
            s.graph.blocks[name] = _inverted_residual(name, f"features.{index}", channels, out,
                                                      first_stride if k == 0 else 1, t, keys)
            x = s.then(x, name, "Block", src_port=port, dst_port="x", block=name)
            channels, port, index = out, "y", index + 1
    head = f"features_{index}"
    x = s.add(f"{head}_0", "Conv2d", s.col(x) + 1, s.row(x), out_channels=last, kernel_size=1, bias=False)
    s.wire(f"features_{index - 1}", x, "y")
    x = s.then(x, f"{head}_1", "BatchNorm")
    keys.add(f"features.{index}.0", f"{head}_0")
    keys.add(f"features.{index}.1", f"{head}_1")
    x = s.then(x, f"{head}_2", "ReLU6")
    x = s.then(x, "avgpool", "AdaptiveAvgPool2d", output_size=1)
    x = s.then(x, "flatten", "Flatten")
    x = s.then(x, "classifier_0", "Dropout", p=dropout)
    x = s.then(x, "classifier_1", "Dense", out_features=num_classes)
    keys.add("classifier.1", "classifier_1")
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    graph = s.settings(_image_data(in_channels, input_size), optimizer="adam", lr=0.001, epochs=5,
                       batch_size=64)
    graph.training["init_weights"] = {"path": "", "format": STATE_DICT, "keys": keys.keys}
    return graph
