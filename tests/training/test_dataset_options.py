"""The data section's option table: every built-in builds with each of its options at its default
and at another valid value, and the file formats offer their loaders' keys."""

from __future__ import annotations

import pytest

from training.datasets import builtin_names, load_raw, prepare
from training.datasets.options import (
    BUILTIN_OPTIONS,
    COMMON_OPTIONS,
    FILE_OPTIONS,
    dataset_options,
)

# Another valid value where "the next one" is not (a motif of other bases, a size that reads well).
OTHER = {"image_size": 12, "motif": "ACGTACGT", "limit": 40, "length": 40}


def other_value(spec):
    if spec.name in OTHER:
        return OTHER[spec.name]
    if spec.kind == "choice":
        return next(c for c in spec.choices if c != spec.default)
    if spec.kind == "bool":
        return not spec.default
    if spec.kind == "float":
        return spec.default / 2 if spec.default else 0.1
    return spec.default + 1


def small(name):
    """Few samples, so that a test of every option stays quick."""
    return {"n_samples": 60} if any(s.name == "n_samples" for s in BUILTIN_OPTIONS[name]) else {}


def test_every_built_in_has_an_option_table():
    assert set(BUILTIN_OPTIONS) == set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_a_built_in_builds_with_each_option_at_its_default_and_another_value(name):
    baseline = load_raw({"dataset": name, **small(name)})
    for spec in BUILTIN_OPTIONS[name]:
        spec.check(spec.default)
        for value in (spec.default, other_value(spec)):
            spec.check(value)
            raw = load_raw({"dataset": name, **small(name), spec.name: value})
            assert set(raw.fields) <= set(baseline.fields) | {"sequence_onehot", "image", "segments"}, spec.name
            assert len(next(iter(raw.fields.values()))) >= 2


def test_an_option_changes_what_is_built():
    assert load_raw({"dataset": "digits", "image_size": 12}).info["image"].shape == (1, 12, 12)
    assert load_raw({"dataset": "cbf", "n_samples": 30, "length": 40}).info["series"].shape == (40,)


def test_the_common_options_work_on_a_built_in():
    for spec in COMMON_OPTIONS:
        for value in (spec.default, other_value(spec)):
            section = {"dataset": "iris"} if value is None else {"dataset": "iris", spec.name: value}
            assert len(prepare(section).train) > 0, spec.name


def test_files_offer_their_formats_keys(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n1,2,x\n3,4,z\n", encoding="utf-8")
    names = [s.name for s in dataset_options({"dataset": "t.csv"}, tmp_path)]
    assert names == [s.name for s in FILE_OPTIONS["csv"]] + ["format"]
    assert [s.name for s in dataset_options({"dataset": "digits"})] == ["image_size"]
    assert dataset_options({}) == ()
    # a path that is not there yet: every file key, so nothing the user may need is hidden
    unknown = {s.name for s in dataset_options({"dataset": "later/"}, tmp_path)}
    assert {"label", "channels", "labels", "transform", "format"} <= unknown
