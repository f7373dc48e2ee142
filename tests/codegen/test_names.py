"""The name allocator: any user text becomes a legal, unique identifier that shadows nothing."""

from __future__ import annotations

import builtins
import keyword

import pytest

from codegen.names import (
    NN_MODULE_ATTRIBUTES,
    RESERVED,
    NameAllocator,
    to_class_name,
    to_identifier,
)

HOSTILE = [
    'x); import os; os.system("echo pwned") #',
    "class", "def", "lambda", "None", "True", "match", "_",
    "print", "len", "input", "list", "id", "sum",
    "torch", "nn", "F", "self", "super",
    "forward", "training", "parameters", "state_dict", "kl_loss", "_modules", "__class__",
    "1st layer", "007", "", "   ", "Schicht Ä", "слой", "层", "a" * 200, "conv-1.weight",
    "\n\t\r", "x\u2028y", "'''", '"""', "\\", "#",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_name_is_a_safe_identifier(text):
    name = NameAllocator().allocate(text)
    assert name.isidentifier() and name.isascii()
    assert not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    assert name not in RESERVED
    assert not name.startswith("_")
    assert len(name) <= 45


def test_readable_names_are_kept():
    names = NameAllocator()
    assert [names.allocate(t) for t in ("conv1_1", "fc8", "relu")] == ["conv1_1", "fc8", "relu"]


def test_reserved_words_get_a_trailing_underscore():
    names = NameAllocator()
    assert names.allocate("input") == "input_"
    assert names.allocate("class") == "class_"
    assert names.allocate("forward") == "forward_"


def test_duplicates_become_unique():
    names = NameAllocator()
    got = [names.allocate(t) for t in ("conv", "conv", "conv!", "conv_2", "conv")]
    assert len(set(got)) == 5
    assert got[:2] == ["conv", "conv_2"]


def test_folding_and_digits():
    assert to_identifier("Schicht Ä") == "Schicht_A"
    assert to_identifier("1st layer") == "n1st_layer"
    assert to_identifier("") == "node"
    assert to_identifier("слой", fallback="layer") == "layer"
    assert to_class_name("vgg16") == "Vgg16"
    assert to_class_name("my tiny-net") == "MyTinyNet"
    assert to_class_name("42") == "N42"


def test_reserved_covers_the_installed_torch():
    from torch import nn

    public = {n for n in dir(nn.Module) if not n.startswith("_")} | set(vars(nn.Module()))
    public = {n for n in public if not n.startswith("_")}
    assert public <= NN_MODULE_ATTRIBUTES | {"training"}, public - NN_MODULE_ATTRIBUTES
    assert set(dir(builtins)) <= RESERVED
