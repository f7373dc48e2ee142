"""Saving and loading a compiled module's weights without ever unpickling arbitrary objects.

The format is safetensors: a flat map from the module's state_dict keys to tensors. Loading
also accepts a torch checkpoint (`.pt`/`.pth`/`.ckpt`) read with `weights_only=True`, either a
state_dict or a dict holding one under "model" or "state_dict" (what training writes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import WeightsError

if TYPE_CHECKING:
    import torch

_NESTED_KEYS = ("model", "state_dict", "model_state")


def save_weights(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Write the module's state_dict as safetensors (atomically: temp file, then rename)."""
    from safetensors.torch import save_file

    target = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        save_file(state, str(tmp), metadata={"format": "netwright.weights"})
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def read_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, keyed as in the module's state_dict."""
    import torch

    source = Path(path)
    if not source.is_file():
        raise WeightsError(f"{source}: no such weights file")
    try:
        if source.suffix == ".safetensors" or _is_safetensors(source):
            from safetensors.torch import load_file

            return load_file(str(source))
        state = torch.load(str(source), map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as exc:  # corrupt files raise many kinds of errors; name the file once
        raise WeightsError(f"{source}: cannot read weights ({exc})") from exc
    if isinstance(state, dict):
        for key in _NESTED_KEYS:
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{source}: not a map of tensor names to tensors")
    return state


def load_weights(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Load weights into the module; every key must match (WeightsError says which do not)."""
    state = read_state(path)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:5]) + (" ..." if len(unexpected) > 5 else ""))
        if wrong:
            parts.append("shape differs for " + ", ".join(
                f"{k} (file {tuple(state[k].shape)}, model {tuple(own[k].shape)})" for k in wrong[:5]))
        raise WeightsError(f"{path}: the weights do not fit this graph: " + "; ".join(parts))
    model.load_state_dict(state, strict=True)


def _is_safetensors(path: Path) -> bool:
    # A safetensors file starts with an 8-byte little-endian header length, then '{'.
    with path.open("rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < (1 << 32)
