"""VGG at depth 11/13/16/19, with or without batch norm, and transfer learning from it.

At 3×224×224 with 1000 classes the graph is exactly torchvision's layout — feature stages of
3×3 convolutions (padding 1) each closed by a 2×2 max pool, AdaptiveAvgPool2d(7), and the
classifier Linear–ReLU–Dropout ×2 + Linear — so its parameter counts equal torchvision's.
Each stage is a Block (its own sub-graph), which keeps the canvas readable.

`torchvision_vgg_keys` is the pure mapping from torchvision's state-dict prefixes
(`features.0`, `classifier.3`, ...) to node paths (`stage1/conv1_1`, `fc2`); transfer_vgg
stores it in `graph.training["init_weights"]` so a loader can map a .pth onto the compiled
module without importing templates.
"""

from __future__ import annotations

from graph_core import Graph, ParamSpec

from .catalog import TemplateError, p_bool, p_float, p_int, p_text, template
from .sketch import Sketch

# Convolutions per stage (torchvision's configurations A, B, D and E); every stage ends in a pool.
STAGES = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
DEPTH = ParamSpec("depth", "int", 16, "weight layers: 11, 13, 16 or 19",
                  choices=tuple(str(d) for d in STAGES))
WEIGHTS_FORMAT = "torchvision_vgg"


def torchvision_vgg_keys(depth: int, batch_norm: bool, classifier: bool = True) -> dict[str, str | None]:
    """torchvision state-dict prefix -> node path ("block-node/inner-node" or a top-level id).

    Args:
        depth: 11, 13, 16 or 19.
        batch_norm: whether the network has BatchNorm after each convolution (vggNN_bn).
        classifier: map classifier.0/3/6 onto fc1/fc2/fc3; when False they map to None, meaning
            "deliberately not used" (transfer learning replaces the head).

    Returns:
        An ordered dict; the suffixes (weight, bias, running_mean, ...) keep torch's names.
    """
    keys: dict[str, str | None] = {}
    index = 0
    for stage, convs in enumerate(STAGES[depth], 1):
        for j in range(1, convs + 1):
            keys[f"features.{index}"] = f"stage{stage}/conv{stage}_{j}"
            if batch_norm:
                keys[f"features.{index + 1}"] = f"stage{stage}/bn{stage}_{j}"
            index += 3 if batch_norm else 2  # conv, [bn,] relu
        index += 1  # the stage's max pool
    for k, head in ((0, "fc1"), (3, "fc2"), (6, "fc3")):
        keys[f"classifier.{k}"] = head if classifier else None
    return keys


def _stage_block(stage: int, convs: int, width: int, batch_norm: bool) -> Graph:
    """One VGG stage: (conv 3×3 [-> bn] -> relu) × convs -> max pool 2×2."""
    s = Sketch(f"stage{stage}")
    x = s.add("x", "Input", 0, shape=[])
    for j in range(1, convs + 1):
        x = s.then(x, f"conv{stage}_{j}", "Conv2d", out_channels=width, kernel_size=3, padding=1)
        if batch_norm:
            x = s.then(x, f"bn{stage}_{j}", "BatchNorm")
        x = s.then(x, f"relu{stage}_{j}", "ReLU")
    x = s.then(x, f"pool{stage}", "MaxPool2d", kernel_size=2, stride=2)
    s.then(x, "y", "Output", loss="none")
    return s.graph


def _features(s: Sketch, x: str, depth: int, batch_norm: bool, input_size: int, *,
              frozen: bool = False, lr_factor: float = 1.0) -> str:
    """Append the five stages as Block nodes; returns the last one."""
    if input_size < 32:
        raise TemplateError("VGG halves the image five times: input_size must be at least 32, "
                            f"got {input_size}")
    for stage, (convs, width) in enumerate(zip(STAGES[depth], WIDTHS), 1):
        name = f"stage{stage}"
        s.graph.blocks[name] = _stage_block(stage, convs, width, batch_norm)
        x = s.then(x, name, "Block", dst_port="x", src_port="out" if stage == 1 else "y",
                   block=name, frozen=frozen, lr_factor=lr_factor)
    return x


def _pool_size(pool_size: int, input_size: int) -> int:
    """torchvision pools to 7×7; 0 means 'the feature map's own size, at most 7'."""
    return pool_size or max(1, min(7, input_size // 32))


@template(
    "vgg",
    "VGG: stacks of 3×3 convolutions, each stage closed by a 2×2 max pool that halves the image "
    "while the channels double, then a large classifier. Two 3×3 convolutions see as far as one "
    "5×5 with fewer weights; at 3×224×224 and 1000 classes this is exactly torchvision's "
    "vgg11…vgg19_bn.",
    DEPTH,
    # On by default: from scratch, 13 plain convolutions with PyTorch's default initialisation
    # do not learn digits in a few epochs (measured: chance after 3), the _bn variant does.
    p_bool("batch_norm", True, "batch norm after every convolution (the _bn variants)"),
    p_int("in_channels", 1, "image channels (3 for RGB photos)"),
    p_int("input_size", 32, "height and width of the square image (at least 32)", minimum=32),
    p_int("num_classes", 10, "number of classes (1000 for ImageNet)"),
    p_int("classifier_width", 4096, "neurons in each of the two hidden classifier layers"),
    p_float("dropout", 0.5, "dropout in the classifier", maximum=0.9),
    p_int("pool_size", 0, "side of the adaptive average pool before the classifier; 0: 7 for "
          "224-pixel images, smaller for small ones (the feature map's own size)", minimum=0),
)
def vgg(depth: int, batch_norm: bool, in_channels: int, input_size: int, num_classes: int,
        classifier_width: int, dropout: float, pool_size: int) -> Graph:
    d = depth
    s = Sketch(f"vgg{d}" + ("_bn" if batch_norm else ""))
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    x = _features(s, x, d, batch_norm, input_size)
    x = s.then(x, "avgpool", "AdaptiveAvgPool2d", src_port="y", output_size=_pool_size(pool_size, input_size))
    x = s.then(x, "flatten", "Flatten")
    for k in (1, 2):
        x = s.then(x, f"fc{k}", "Dense", out_features=classifier_width)
        x = s.then(x, f"relu_fc{k}", "ReLU")
        x = s.then(x, f"dropout{k}", "Dropout", p=dropout)
    x = s.then(x, "fc3", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    return s.settings(_image_data(in_channels, input_size), optimizer="adam", lr=0.001, epochs=10,
                      batch_size=64)


def _image_data(in_channels: int, input_size: int) -> dict:
    """Digits for grey images a built-in set can fill; an image folder otherwise."""
    if in_channels == 1 and input_size <= 32:
        return {"dataset": "digits", "image_size": input_size}
    # No built-in set has colour photos: the user points "dataset" at a folder of class folders.
    return {"dataset": "", "format": "images", "image_size": input_size, "channels": in_channels}


@template(
    "transfer_vgg",
    "Transfer learning: VGG's feature stages, trained on ImageNet, are loaded from a torchvision "
    ".pth file and frozen, and only a new small head learns the new classes. With fine_tune the "
    "stages learn too, at a lower learning rate, so the pretrained filters are adjusted rather "
    "than overwritten.",
    DEPTH,
    p_bool("batch_norm", False, "whether the weights are a _bn variant"),
    p_text("weights", "", "path of a torchvision VGG state dict (.pth); empty: choose it later"),
    p_int("in_channels", 1, "image channels; anything but 3 gets a learned 1×1 conv to RGB"),
    p_int("input_size", 32, "height and width of the square image (at least 32)", minimum=32),
    p_int("num_classes", 10, "classes of the new task"),
    p_int("head_width", 256, "neurons in the new head's hidden layer"),
    p_float("dropout", 0.5, "dropout in the new head", maximum=0.9),
    p_bool("fine_tune", False, "train the pretrained stages too (at lr × fine_tune_lr_factor)"),
    p_float("fine_tune_lr_factor", 0.1, "learning-rate factor of the pretrained stages when fine-tuning"),
)
def transfer_vgg(depth: int, batch_norm: bool, weights: str, in_channels: int, input_size: int,
                 num_classes: int, head_width: int, dropout: float, fine_tune: bool,
                 fine_tune_lr_factor: float) -> Graph:
    d = depth
    s = Sketch(f"transfer_vgg{d}" + ("_bn" if batch_norm else ""))
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    if in_channels != 3:
        # The pretrained filters expect RGB: a learned 1×1 convolution maps the channels to 3.
        x = s.then(x, "to_rgb", "Conv2d", out_channels=3, kernel_size=1)
    x = _features(s, x, d, batch_norm, input_size, frozen=not fine_tune,
                  lr_factor=fine_tune_lr_factor if fine_tune else 1.0)
    x = s.then(x, "gap", "GlobalAvgPool", src_port="y")
    x = s.then(x, "head_fc", "Dense", out_features=head_width)
    x = s.then(x, "head_relu", "ReLU")
    x = s.then(x, "head_dropout", "Dropout", p=dropout)
    x = s.then(x, "head_out", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    graph = s.settings(_image_data(in_channels, input_size), optimizer="adam", lr=0.001, epochs=5,
                       batch_size=64)
    graph.training["init_weights"] = {"path": weights, "format": WEIGHTS_FORMAT,
                                      "keys": torchvision_vgg_keys(d, batch_norm, classifier=False)}
    return graph
