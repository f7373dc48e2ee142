"""Training settings: defaults from the graph, overrides, checks, and the GPU speed decisions."""

from __future__ import annotations

import pytest

from training import ConfigError, TrainConfig, pick_device, plan_runtime


def test_graph_section_gives_defaults_and_overrides_win():
    c = TrainConfig.resolve({"optimizer": "SGD", "lr": 0.1, "epochs": 7}, {"epochs": 2, "lr": None})
    assert (c.optimizer, c.lr, c.epochs) == ("sgd", 0.1, 2)
    assert c.batch_size == 64  # untouched default


def test_unknown_key_in_file_is_kept_aside_but_unknown_override_is_an_error():
    c = TrainConfig.resolve({"epochs": 3, "warmup": 5})
    assert c.ignored == ["warmup"]
    # pretrained weights are read by training itself: a run's config.json does not call them ignored
    c = TrainConfig.resolve({"epochs": 3, "warmup": 5, "init_weights": {"path": "w.safetensors"}})
    assert c.ignored == ["warmup"]
    with pytest.raises(ConfigError, match="unknown training setting 'epoch'"):
        TrainConfig.resolve({}, {"epoch": 3})


@pytest.mark.parametrize(("key", "value", "words"), [
    ("optimizer", "rmsprop", "optimizer: 'rmsprop' is not one of sgd, adam, adamw"),
    ("schedule", "linear", "schedule"),
    ("batch_size", 0, "batch_size: expected a whole number >= 1"),
    ("epochs", 2.5, "epochs"),
    ("lr", 0, "lr: must be positive"),
    ("lr", -1.0, "lr: expected a number >= 0"),
    ("device", "tpu", "device"),
    ("amp", "int8", "amp"),
    ("channels_last", "yes", "channels_last"),
    ("betas", [0.9], "betas"),
])
def test_bad_values_name_the_key(key, value, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig.resolve({key: value})


def test_amp_accepts_booleans():
    assert TrainConfig.resolve({"amp": False}).amp == "off"
    assert TrainConfig.resolve({"amp": True}).amp == "auto"


def test_device_choice():
    assert pick_device("auto", cuda_available=True, mps_available=True) == "cuda"
    assert pick_device("auto", cuda_available=False, mps_available=True) == "mps"
    assert pick_device("auto", cuda_available=False, mps_available=False) == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        pick_device("cuda", cuda_available=False, mps_available=False)


def test_cpu_runs_plain_fp32():
    plan = plan_runtime(TrainConfig(), "cpu", bf16_supported=False, has_conv2d=True)
    assert (plan.amp_dtype, plan.grad_scaler, plan.channels_last, plan.cudnn_benchmark) == (None, False, False, False)


def test_cuda_defaults_are_the_fast_band():
    plan = plan_runtime(TrainConfig(), "cuda", bf16_supported=True, has_conv2d=True)
    assert plan.amp_dtype == "bfloat16" and not plan.grad_scaler
    assert plan.channels_last and plan.cudnn_benchmark and not plan.compile
    assert plan.describe() == "cuda, bfloat16, channels_last, cudnn_benchmark"


def test_cuda_without_bf16_uses_fp16_with_a_scaler():
    plan = plan_runtime(TrainConfig(), "cuda:0", bf16_supported=False, has_conv2d=False)
    assert plan.amp_dtype == "float16" and plan.grad_scaler
    assert not plan.channels_last  # no 2-d convolutions: nothing to gain


def test_each_speed_switch_can_be_turned_off_or_on():
    c = TrainConfig.resolve({"amp": "off", "channels_last": False, "cudnn_benchmark": False, "compile": True})
    plan = plan_runtime(c, "cuda", bf16_supported=True, has_conv2d=True)
    assert (plan.amp_dtype, plan.channels_last, plan.cudnn_benchmark, plan.compile) == (None, False, False, True)
    forced = plan_runtime(TrainConfig.resolve({"amp": "fp16"}), "cuda", bf16_supported=True, has_conv2d=True)
    assert forced.amp_dtype == "float16" and forced.grad_scaler


# ---- the declarative table of settings the designer's forms are built from ---------------------

RUN_LEVEL = {"out", "resume", "dataset", "ignored"}


def test_the_settings_table_covers_every_graph_level_field_with_trainconfigs_default():
    import dataclasses

    from training.config import SETTING_GROUPS, SETTINGS

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert set(names) == set(fields) - RUN_LEVEL
    defaults = TrainConfig()
    for spec in SETTINGS:
        assert spec.default == getattr(defaults, spec.name), spec.name
        assert spec.check(spec.default) == getattr(defaults, spec.name), spec.name
        assert spec.group in SETTING_GROUPS and spec.help, spec.name
    assert {s.group for s in SETTINGS} == set(SETTING_GROUPS)


@pytest.mark.parametrize(("key", "value", "stored"), [
    ("optimizer", "SGD", "sgd"),
    ("betas", [0.8, 0.99], [0.8, 0.99]),
    ("betas", None, None),
    ("channels_last", "true", True),
    ("cudnn_benchmark", False, False),
    ("channels_last", "auto", "auto"),
    ("monitor", "val_accuracy", "val_accuracy"),
    ("device", "cuda:1", "cuda:1"),
    ("amp", "bf16", "bf16"),
])
def test_a_setting_checks_and_normalises_as_the_engine_does(key, value, stored):
    from training.config import setting_spec

    assert setting_spec(key).check(value) == stored
    assert getattr(TrainConfig.resolve({key: stored}), key) == stored


@pytest.mark.parametrize(("key", "value", "words"), [
    ("lr", 0.0, "lr: must be at least"),
    ("betas", [0.9], "betas"),
    ("betas", [0.9, 1.5], "betas"),
    ("channels_last", "yes", "use auto, true or false"),
    ("device", "tpu", "device"),
    ("epochs", 0, "epochs: must be at least 1"),
    ("monitor", "", "monitor"),
])
def test_a_setting_refuses_what_the_engine_refuses(key, value, words):
    from graph_core import ParamError
    from training.config import setting_spec

    with pytest.raises(ParamError, match=words):
        setting_spec(key).check(value)
