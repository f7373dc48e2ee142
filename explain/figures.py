"""Draw an Explanation as a PNG with matplotlib's Agg backend (no display, no Qt).

Left, the attribution in the input's own terms (see explanation.py); right, the deletion
curve against random orders with both areas, so the picture says how far to trust it.
Red is evidence for the explained class, blue against it; saliency and Grad-CAM are unsigned.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .explanation import Explanation

BASE_COLOURS = {"A": "#109648", "C": "#255c99", "G": "#f7b32b", "T": "#d62839", "N": "#999999"}
TITLES = {"saliency": "Saliency |∂score/∂x|", "integrated_gradients": "Integrated Gradients",
          "gradcam": "Grad-CAM", "occlusion": "Occlusion", "lime": "LIME"}


def render(explanation: Explanation, path: str | Path | None = None, dpi: int = 110, scale: float = 1.0) -> bytes:
    """The figure as PNG bytes; also written to `path` when given. `scale` shrinks the page (not the
    fonts): the window's Results dock shows the figure ~450 pixels wide, where a full page's 10-point
    text would be drawn 5 pixels high."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    e = explanation
    wide = e.kind in ("dna", "features", "sequence", "tokens")
    width, height = (13, 4.6) if wide else (12, 4.2)
    fig = Figure(figsize=(width * scale, height * scale), dpi=dpi, layout="constrained")
    if e.kind == "dna":
        grid = fig.add_gridspec(1, 4)
        _dna_logo(fig.add_subplot(grid[0, :3]), e)
        _deletion(fig.add_subplot(grid[0, 3]), e)
    elif e.kind == "series_image":
        axes = fig.subplots(1, 3, width_ratios=[1, 1.6, 1])
        _heatmap(axes[0], e, "attribution over the GAF image")
        _series(axes[1], e)
        _deletion(axes[2], e)
    elif e.kind == "image":
        axes = fig.subplots(1, 3)
        _picture(axes[0], e.input, "input")
        _heatmap(axes[1], e, "attribution")
        _deletion(axes[2], e)
    elif e.kind == "tokens":
        grid = fig.add_gridspec(1, 3)
        _token_bars(fig.add_subplot(grid[0, :2]), e)
        _deletion(fig.add_subplot(grid[0, 2]), e)
    elif e.kind == "features":
        grid = fig.add_gridspec(1, 3)
        _bars(fig.add_subplot(grid[0, :2]), e)
        _deletion(fig.add_subplot(grid[0, 2]), e)
    else:
        grid = fig.add_gridspec(1, 3)
        ax = fig.add_subplot(grid[0, :2])
        _signed_image(ax, e.attribution, e.method)
        ax.set_xlabel("position")
        ax.set_ylabel("channel")
        _deletion(fig.add_subplot(grid[0, 2]), e)
    fig.suptitle(_title(e), fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return data


def _title(e: Explanation) -> str:
    where = f"sample {e.sample}" if e.sample is not None else "input file"
    truth = f", true class {e.label}" if e.label is not None else ""
    layer = f" at {e.layer}" if e.layer else ""
    pixel = f", pixel {e.pixel[0]},{e.pixel[1]}" if e.pixel else ""
    return (f"{TITLES[e.method]}{layer}: why '{e.target_name}' (p = {e.probability:.2f}){pixel} — "
            f"{where}{truth}, predicted {e.predicted_name}")


def _signed(method: str) -> bool:
    return method not in ("saliency", "gradcam")


def _picture(ax, x: np.ndarray, title: str) -> None:
    if x.shape[0] == 3:
        ax.imshow(np.clip(np.transpose(x, (1, 2, 0)), 0, 1))
    else:
        ax.imshow(x[0], cmap="gray", **_grey_range(x))
    ax.set_title(title, fontsize=10)
    ax.axis("off")


def _heatmap(ax, e: Explanation, title: str) -> None:
    base = e.input[0] if e.input.shape[0] != 3 else e.input.mean(0)
    ax.imshow(base, cmap="gray", **_grey_range(e.input))
    a = e.attribution.sum(0)
    limit = float(np.abs(a).max()) or 1.0
    if _signed(e.method):
        ax.imshow(a, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.65)
    else:
        ax.imshow(a, cmap="inferno", vmin=0, vmax=limit, alpha=0.65)
    ax.set_title(title, fontsize=10)
    ax.axis("off")


def _grey_range(x: np.ndarray) -> dict:
    # Pictures in [0, 1] are shown as they are, not stretched to their own range.
    return {"vmin": 0.0, "vmax": 1.0} if x.min() >= 0 and x.max() <= 1 else {}


def _signed_image(ax, a: np.ndarray, method: str) -> None:
    limit = float(np.abs(a).max()) or 1.0
    cmap, low = ("bwr", -limit) if _signed(method) else ("inferno", 0)
    ax.imshow(a, cmap=cmap, vmin=low, vmax=limit, aspect="auto", interpolation="nearest")


def _dna_logo(ax, e: Explanation) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    bases = e.extras["bases"]
    heights = e.attribution.sum(0)  # one-hot: only the observed base carries attribution
    span = e.extras.get("motif_span")
    if span is not None:
        ax.axvspan(span[0] - 0.5, span[1] - 0.5, color="#ffe9a8", zorder=0, label="planted motif")
    glyphs = {b: TextPath((0, 0), b, size=1, prop={"family": "DejaVu Sans", "weight": "bold"}) for b in BASE_COLOURS}
    for i, (base, h) in enumerate(zip(bases, heights)):
        if abs(h) < 1e-12:
            continue
        glyph = glyphs[base]
        box = glyph.get_extents()
        # Scale the glyph to one position wide and |h| tall; a negative height hangs below 0.
        transform = (Affine2D().translate(-box.x0, -box.y0).scale(0.9 / box.width, abs(h) / box.height)
                     .translate(i - 0.45, 0 if h > 0 else h))
        ax.add_patch(PathPatch(transform.transform_path(glyph), color=BASE_COLOURS[base], lw=0))
    limit = float(np.abs(heights).max()) or 1.0
    ax.set_xlim(-1, len(bases))
    ax.set_ylim(min(0.0, float(heights.min())) - 0.05 * limit, max(0.0, float(heights.max())) + 0.1 * limit)
    ax.axhline(0, color="#444444", lw=0.6)
    ax.set_xlabel("position in the sequence")
    ax.set_ylabel("attribution of the observed base")
    share = ""
    if span is not None:
        share = (f" — {e.share_inside(*span):.0%} of |attribution| inside the motif, which is "
                 f"{(span[1] - span[0]) / len(bases):.0%} of the sequence")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"per-base attribution (sequence logo){share}", fontsize=10)


def _series(ax, e: Explanation) -> None:
    series, weights = e.extras["series"], e.extras["series_attribution"]
    t = np.arange(len(series))
    limit = float(np.abs(weights).max()) or 1.0
    ax.plot(t, series, color="#888888", lw=1, zorder=1)
    cmap, low = ("bwr", -limit) if _signed(e.method) else ("inferno", 0)
    points = ax.scatter(t, series, c=weights, cmap=cmap, vmin=low, vmax=limit, s=14, zorder=2)
    ax.figure.colorbar(points, ax=ax, fraction=0.04, pad=0.01)
    ax.set_xlabel("time")
    ax.set_title("attribution mapped back onto the series", fontsize=10)


def _bars(ax, e: Explanation) -> None:
    names = e.extras["feature_names"]
    values = e.attribution
    order = np.argsort(-np.abs(values))[:25]
    colours = ["#d62839" if values[i] > 0 else "#255c99" for i in order]
    ax.barh(range(len(order)), values[order], color=colours)
    ax.set_yticks(range(len(order)), [names[i] for i in order], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#444444", lw=0.6)
    ax.set_xlabel("attribution")
    shown = "" if len(order) == len(values) else f" (the {len(order)} largest of {len(values)})"
    ax.set_title(f"attribution per feature{shown}", fontsize=10)


def _token_bars(ax, e: Explanation) -> None:
    tokens = e.extras["tokens"]
    values = e.attribution.sum(0)  # one-hot: only the token present carries attribution
    colours = ["#d62839" if v > 0 else "#255c99" for v in values]
    ax.bar(range(len(values)), values, color=colours)
    ax.set_xticks(range(len(values)), [str(t) if t >= 0 else "·" for t in tokens], fontsize=7,
                  rotation=90 if len(values) > 40 else 0)
    ax.axhline(0, color="#444444", lw=0.6)
    ax.set_xlabel("token id at each position")
    ax.set_ylabel("attribution")
    ax.set_title("attribution per token", fontsize=10)


def _deletion(ax, e: Explanation) -> None:
    d = e.deletion
    ax.plot(d.fractions, d.by_attribution, color="#d62839", lw=2, label=f"most attributed first (area {d.area:.3f})")
    ax.plot(d.fractions, d.random, color="#777777", lw=1.5, ls="--", label=f"random order (area {d.random_area:.3f})")
    if min(d.by_attribution + d.random) >= 0 and max(d.by_attribution + d.random) <= 1:
        ax.set_ylim(-0.02, 1.02)  # probabilities; a regression head's value keeps its own range
    ax.set_xlabel("fraction of the input removed")
    ax.set_ylabel(f"p('{e.target_name}')")
    verdict = "faster than random" if d.faster_than_random else "no faster than random"
    ax.set_title(f"deletion: {verdict}", fontsize=10)
    ax.legend(fontsize=8, loc="best")  # a flat curve at p = 1 sat under an upper-right legend
