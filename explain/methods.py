"""The five attribution methods, each a call into Captum, and the feature groups they share.

An explained input has one of a few layouts, and each decides what a "feature" is:

| layout | input | unit of deletion | LIME segment | occlusion window |
|---|---|---|---|---|
| image | (C, H, W) | a pixel (all channels) | a grid cell (about H/8) | (C, H/8, W/8), stride half of it |
| sequence | (C, L) one-hot or channels | a position | a window of L/20 | (C, L/25) |
| vector | (F,) | a feature | a feature | one feature |

Removing a feature sets it to 0: a black pixel, an unknown base (all-zero one-hot), the
training mean of a standardised feature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

METHODS = ("saliency", "integrated_gradients", "gradcam", "occlusion", "lime")
IG_STEPS = 32
LIME_SAMPLES = 400


def layout_of(shape: tuple[int, ...]) -> str:
    """image, sequence or vector, from one sample's shape (no batch axis)."""
    if len(shape) == 3:
        return "image"
    if len(shape) == 2:
        return "sequence"
    if len(shape) == 1:
        return "vector"
    raise ValueError(f"cannot explain an input of shape {list(shape)} (expected (F,), (C, L) or (C, H, W))")


def unit_map(shape: tuple[int, ...]) -> np.ndarray:
    """Per element of the input, the id of its deletion unit (pixel, position, feature)."""
    layout = layout_of(shape)
    if layout == "image":
        c, h, w = shape
        return np.broadcast_to(np.arange(h * w).reshape(1, h, w), shape).copy()
    if layout == "sequence":
        c, length = shape
        return np.broadcast_to(np.arange(length)[None, :], shape).copy()
    return np.arange(shape[0])


def segment_map(shape: tuple[int, ...]) -> np.ndarray:
    """LIME's interpretable features: grid superpixels, sequence windows, or single features."""
    layout = layout_of(shape)
    if layout == "image":
        c, h, w = shape
        cell_h, cell_w = max(1, round(h / 8)), max(1, round(w / 8))
        rows, cols = np.arange(h) // cell_h, np.arange(w) // cell_w
        grid = rows[:, None] * (cols.max() + 1) + cols[None, :]
        return np.broadcast_to(grid[None], shape).copy()
    if layout == "sequence":
        c, length = shape
        window = max(1, round(length / 20))
        return np.broadcast_to((np.arange(length) // window)[None, :], shape).copy()
    return np.arange(shape[0])


def attribute(method: str, scorer: torch.nn.Module, x: torch.Tensor, target: int,
              layer: torch.nn.Module | None = None) -> np.ndarray:
    """Attribution of `scorer(x)[:, target]` to each element of x (1, ...): same shape, no batch.

    Args:
        method: one of METHODS.
        scorer: explained input -> (N, K) scores.
        x: the input, batch of one.
        target: the score column explained.
        layer: the convolution module for gradcam.
    """
    run = _METHODS.get(method)
    if run is None:
        raise ValueError(f"unknown method {method!r} (methods: {', '.join(METHODS)})")
    with torch.enable_grad():
        result = run(scorer, x.detach().clone().requires_grad_(), target, layer)
    return result.detach().reshape(x.shape[1:]).float().numpy()


def _saliency(scorer, x, target, layer) -> torch.Tensor:
    from captum.attr import Saliency

    # Gradient times input would hide a zero input; the course shows |gradient| as the map.
    return Saliency(scorer).attribute(x, target=target, abs=True)


def _integrated_gradients(scorer, x, target, layer) -> torch.Tensor:
    from captum.attr import IntegratedGradients

    return IntegratedGradients(scorer).attribute(x, baselines=torch.zeros_like(x), target=target,
                                                 n_steps=IG_STEPS, internal_batch_size=IG_STEPS)


def _gradcam(scorer, x, target, layer) -> torch.Tensor:
    from captum.attr import LayerAttribution, LayerGradCam

    if layer is None:
        raise ValueError("gradcam needs a convolution layer")
    cam = LayerGradCam(scorer, layer).attribute(x, target=target, relu_attributions=True)
    spatial = tuple(x.shape[2:])
    if cam.dim() == 3 and 0 < spatial[0] - cam.shape[-1] < spatial[0]:
        # A valid Conv1d: output t saw inputs t .. t+k-1; share its weight over that window.
        k = spatial[0] - cam.shape[-1] + 1
        cam = torch.nn.functional.conv_transpose1d(cam, torch.ones(1, 1, k) / k)
    elif cam.dim() == 3:
        cam = torch.nn.functional.interpolate(cam, size=spatial, mode="linear", align_corners=False)
    else:
        cam = LayerAttribution.interpolate(cam, spatial, interpolate_mode="bilinear")
    return cam * _spread(x)


def _occlusion(scorer, x, target, layer) -> torch.Tensor:
    from captum.attr import Occlusion

    shape = tuple(x.shape[1:])
    layout = layout_of(shape)
    if layout == "image":
        c, h, w = shape
        size = (max(1, h // 8), max(1, w // 8))
        window, strides = (c, *size), (c, max(1, size[0] // 2), max(1, size[1] // 2))
    elif layout == "sequence":
        c, length = shape
        size = max(1, length // 25)
        window, strides = (c, size), (c, max(1, size // 2))
    else:
        window, strides = (1,), (1,)
    weights = Occlusion(scorer).attribute(x, sliding_window_shapes=window, strides=strides, baselines=0.0,
                                          target=target, perturbations_per_eval=64)
    return weights * _spread(x)


def _lime(scorer, x, target, layer) -> torch.Tensor:
    from captum._utils.models.linear_model import SkLearnRidge
    from captum.attr import Lime
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    mask = torch.as_tensor(segment_map(tuple(x.shape[1:])))[None]
    torch.manual_seed(0)
    lime = Lime(scorer, interpretable_model=SkLearnRidge(alpha=1.0),
                similarity_func=get_exp_kernel_similarity_function("cosine", kernel_width=1.0))
    # Captum gives every element its segment's weight (return_input_shape).
    weights = lime.attribute(x, target=target, baselines=0.0, feature_mask=mask, n_samples=LIME_SAMPLES,
                             perturbations_per_eval=100)
    return weights * _spread(x)


def _spread(x: torch.Tensor) -> torch.Tensor:
    """How a weight given to a place (pixel, position) is shared among its channels.

    Grad-CAM, occlusion and LIME weigh places, not channels: a one-hot sequence's weight goes to
    the observed base (the logo shows it), and other inputs share it equally among the channels,
    so summing over channels gives the place's weight back.
    """
    if x.dim() == 2:
        return torch.ones_like(x)
    onehot = x.dim() == 3 and bool(((x == 0) | (x == 1)).all()) and bool((x.sum(1) <= 1).all())
    return (x != 0).float() if onehot else torch.ones_like(x) / x.shape[1]


_METHODS: dict[str, Callable[..., torch.Tensor]] = {
    "saliency": _saliency,
    "integrated_gradients": _integrated_gradients,
    "gradcam": _gradcam,
    "occlusion": _occlusion,
    "lime": _lime,
}
