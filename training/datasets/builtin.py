"""The built-in datasets: scikit-learn's bundled sets and generators, plus our synthetic ones.

Nothing is downloaded: digits, iris and breast cancer ship inside scikit-learn's wheel; moons
and blobs are scikit-learn generators; the rest are generated in numpy (synthetic.py and
series.py). Generated data depends on the data section's `data_seed` (default 0), not on the
training seed, so runs with different seeds train on the same samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import FieldInfo, Options, RawData, label_info
from .images import resize_images
from .series import make_cbf
from .shortcut import make_snow_shortcut
from .synthetic import make_dna_motif, make_multiomics, make_shapes_seg, make_tokens
from .translation import make_translation

Builder = Callable[[Options, int], RawData]


def make_digits(opts: Options, data_seed: int) -> RawData:
    """scikit-learn's 8x8 digits as `image` (1, S, S) in [0, 1] and `label` (10 classes).

    Option image_size (default 8) resizes with a bilinear filter, e.g. 28 for LeNet.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / np.float32(16.0))[:, None]
    size = opts.size2d("image_size", 8)
    images = np.clip(resize_images(images, size), 0.0, 1.0)
    info = {"image": FieldInfo((1, *size), "float32", None, None, "image"),
            "label": label_info(10)}
    return RawData("digits", {"image": images, "label": bunch.target.astype(np.int64)}, info,
                   source="digits")


def _bunch(name: str) -> Builder:
    def build(opts: Options, data_seed: int) -> RawData:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        features = bunch.data.astype(np.float32)
        names = [str(n) for n in bunch.target_names]
        columns = [str(c) for c in bunch.feature_names]
        info = {"features": FieldInfo((features.shape[1],), "float32", None, None, "features",
                                      columns),
                "label": label_info(len(names), names)}
        return RawData(name, {"features": features, "label": bunch.target.astype(np.int64)},
                       info, source=name)

    build.__doc__ = f"scikit-learn's {name} table as `features` and `label`."
    return build


def make_moons(opts: Options, data_seed: int) -> RawData:
    """Two interleaving half circles: `features` (2,), `label` (2 classes).

    Options: n_samples (default 1000), noise (default 0.1).
    """
    from sklearn.datasets import make_moons as sk_moons

    x, y = sk_moons(opts.integer("n_samples", 1000, minimum=4),
                    noise=opts.number("noise", 0.1), random_state=data_seed)
    return _table("moons", x, y, 2)


def make_blobs(opts: Options, data_seed: int) -> RawData:
    """Gaussian clusters: `features` (n_features,), `label` (centers classes).

    Options: n_samples (1000), centers (3), n_features (2), cluster_std (1.0).
    """
    from sklearn.datasets import make_blobs as sk_blobs

    centers = opts.integer("centers", 3, minimum=1)
    x, y = sk_blobs(opts.integer("n_samples", 1000, minimum=centers * 2), centers=centers,
                    n_features=opts.integer("n_features", 2, minimum=1),
                    cluster_std=opts.number("cluster_std", 1.0), random_state=data_seed)
    return _table("blobs", x, y, centers)


def _table(name: str, x: np.ndarray, y: np.ndarray, num_classes: int) -> RawData:
    info = {"features": FieldInfo((x.shape[1],), "float32", None, None, "features"),
            "label": label_info(num_classes)}
    return RawData(name, {"features": x.astype(np.float32), "label": y.astype(np.int64)}, info,
                   source=name)


BUILTINS: dict[str, Builder] = {
    "digits": make_digits,
    "iris": _bunch("iris"),
    "breast_cancer": _bunch("breast_cancer"),
    "moons": make_moons,
    "blobs": make_blobs,
    "dna_motif": make_dna_motif,
    "cbf": make_cbf,
    "shapes_seg": make_shapes_seg,
    "multiomics_synth": make_multiomics,
    "tokens_synth": make_tokens,
    "snow_shortcut": make_snow_shortcut,
    "translation_synth": make_translation,
}


def builtin_names() -> list[str]:
    """Names of the built-in datasets, in catalogue order."""
    return list(BUILTINS)
