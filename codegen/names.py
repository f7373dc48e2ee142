"""The name allocator: any user text in, a legal, unique, harmless Python identifier out.

Node names come from a file the user may have been sent by anyone, so they are never pasted
into the generated source. Each one is reduced to ASCII letters, digits and underscores, made
to start with a letter, kept clear of keywords, builtins, the modules the source imports
(`torch`, `nn`, `F`), `self`, and every attribute an `nn.Module` already has, then made unique
within its scope. This mirrors torch.fx's `_Namespace`.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

# Public attributes of torch.nn.Module (torch 2.x). Hard-coded so that generating source does
# not import torch; tests/codegen checks it still covers dir(nn.Module) of the installed torch.
NN_MODULE_ATTRIBUTES = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
    "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook",
    "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
    "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad",
})

# Names the generated module itself defines or that callers rely on.
GENERATED_ATTRIBUTES = frozenset({
    "kl_loss", "node_modules", "generator", "discriminator", "latent_shape", "sample_shape",
    "beta", "kl", "source", "graph_name", "input_names", "output_names",
})

# Attributes of torch.fx.GraphModule: torch.export and the ONNX exporter rebuild the model as a
# GraphModule that keeps our submodule names, so a node attribute named `code` or `graph` would
# shadow them and break the export.
FX_GRAPH_MODULE_ATTRIBUTES = frozenset({
    "code", "graph", "meta", "recompile", "print_readable", "add_submodule", "delete_submodule",
    "delete_all_unused_submodules", "to_folder", "generated",
})

RESERVED = frozenset(
    set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
    | {"torch", "nn", "F", "self", "cls", "super"} | NN_MODULE_ATTRIBUTES | GENERATED_ATTRIBUTES
    | FX_GRAPH_MODULE_ATTRIBUTES
)

_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
MAX_LENGTH = 40


def to_identifier(text: str, fallback: str = "node") -> str:
    """The readable snake-ish identifier a piece of user text suggests (not yet unique).

    Accents are folded to ASCII ("Schicht_ä" -> "Schicht_a"), every other character run
    becomes one underscore, leading underscores are dropped (no dunders, no private
    nn.Module internals such as `_modules`), and a leading digit gets an "n" in front.
    """
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    stem = _NOT_WORD.sub("_", folded).strip("_")[:MAX_LENGTH].rstrip("_")
    if not stem:
        stem = fallback
    if stem[0].isdigit():
        stem = "n" + stem
    return stem


def to_class_name(text: str, fallback: str = "Network") -> str:
    """A CamelCase class name from user text ("vgg16" -> "Vgg16", "my net" -> "MyNet")."""
    stem = to_identifier(text, fallback)
    parts = [p for p in stem.split("_") if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or fallback
    if name[0].isdigit():
        name = "N" + name
    return name


class NameAllocator:
    """Hands out unique identifiers within one scope (a class body, a forward, the module).

    Args:
        taken: names already in use in this scope, besides the always-reserved ones.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._used: set[str] = set(RESERVED) | set(taken)

    def reserve(self, name: str) -> None:
        """Mark an exact name as used (it must already be a legal identifier)."""
        self._used.add(name)

    def is_free(self, name: str) -> bool:
        return name not in self._used

    def allocate(self, text: str, fallback: str = "node") -> str:
        """A fresh identifier for `text`: `relu`, then `relu_2`, `relu_3`, ...

        A reserved word gets a trailing underscore first (`input` -> `input_`), the usual
        Python convention, so the name still reads as what the user typed.
        """
        return self._claim(to_identifier(text, fallback))

    def allocate_class(self, text: str, fallback: str = "Network") -> str:
        """A fresh CamelCase class name for `text`."""
        stem = to_class_name(text, fallback)
        # CamelCase reads best as Stage2; a name ending in a digit keeps a separator (Vgg16_2).
        return self._claim(stem, "_" if stem[-1].isdigit() else "")

    def _claim(self, stem: str, separator: str = "_") -> str:
        if stem in RESERVED:
            stem += "_"
        name, n = stem, 2
        while name in self._used or not name.isidentifier() or keyword.iskeyword(name):
            name = f"{stem}{separator}{n}"
            n += 1
        self._used.add(name)
        return name
