"""Training settings: plain data, defaults from the graph's `training` section, overridable.

`TrainConfig.resolve(graph.training, overrides)` merges the two (overrides win) and checks every
value, so a typo in a CLI flag fails before any work starts. The GPU switches (`amp`,
`channels_last`, `cudnn_benchmark`, `compile`) default to "auto": on for CUDA where they help,
off elsewhere; `RuntimePlan` turns them into concrete decisions for one device.

`SETTINGS` is the declarative table of every graph-level setting (the `training` section's
keys), as `SettingSpec`s: kind, TrainConfig's own default, choices, range and a line of help, in
groups. The designer builds its forms from it; run-level keys (out, resume, dataset) are not in it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from graph_core import ParamError, ParamSpec

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
AMP_MODES = ("auto", "bf16", "fp16", "off")
AUTO_BOOL = ("auto", True, False)
AUGMENTS = ("none", "shift", "affine")


class ConfigError(ValueError):
    """A training setting is unknown or out of range; the message names the key."""


# keys of a graph's training section that training reads itself, not as settings (the run's
# config.json lists the others it did not know under "ignored")
READ_ELSEWHERE = frozenset({"init_weights"})


@dataclass
class TrainConfig:
    """Every training knob. Field names are the keys of a graph file's `training` section."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    betas: list[float] | None = None
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    grad_clip: float = 0.0
    augment: str = "none"
    early_stopping: int = 0
    monitor: str = "auto"
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    channels_last: Any = "auto"
    cudnn_benchmark: Any = "auto"
    compile: bool = False
    max_steps: int = 0
    out: str | None = None
    resume: str | None = None
    dataset: str | None = None
    samples: bool = True
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def resolve(cls, section: dict[str, Any] | None = None,
                overrides: dict[str, Any] | TrainConfig | None = None) -> TrainConfig:
        """Merge a graph's `training` section with explicit overrides and check the result.

        Unknown keys in the graph's section are kept in `ignored` (a newer file may carry
        settings this version lacks); unknown override keys are an error, since they are typos.

        Args:
            section: the graph file's `training` dict.
            overrides: keys that win over the section (None values are skipped), or a config.

        Returns:
            A checked config.

        Raises:
            ConfigError: a value is of the wrong kind or out of range, or an override is unknown.
        """
        known = {f.name for f in dataclasses.fields(cls)} - {"ignored"}
        values: dict[str, Any] = {}
        ignored = []
        for key, value in (section or {}).items():
            if key in known:
                values[key] = value
            elif key not in READ_ELSEWHERE:
                ignored.append(key)
        if isinstance(overrides, TrainConfig):
            overrides = {k: v for k, v in dataclasses.asdict(overrides).items() if k != "ignored"}
        for key, value in (overrides or {}).items():
            if key not in known:
                raise ConfigError(f"unknown training setting {key!r} (known: {', '.join(sorted(known))})")
            if value is not None:
                values[key] = value
        config = cls(**values, ignored=ignored)
        config.check()
        return config

    def check(self) -> None:
        """Normalise spellings and raise ConfigError on the first bad value."""
        self.optimizer = str(self.optimizer).lower()
        self.schedule = str(self.schedule or "none").lower()
        self.device = str(self.device).lower()
        self.amp = {True: "auto", False: "off"}.get(self.amp, self.amp)  # type: ignore[arg-type]
        self.amp = str(self.amp).lower()
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("amp", self.amp, AMP_MODES)
        self.augment = str(self.augment or "none").lower()
        _choice("augment", self.augment, AUGMENTS)
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ConfigError(f"device: {self.device!r} is not one of {', '.join(DEVICES)}")
        for name in ("channels_last", "cudnn_benchmark"):
            if getattr(self, name) not in AUTO_BOOL:
                raise ConfigError(f"{name}: use auto, true or false, not {getattr(self, name)!r}")
        for name, low in (("batch_size", 1), ("epochs", 1), ("step_size", 1),
                          ("early_stopping", 0), ("max_steps", 0), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}: expected a whole number >= {low}, got {value!r}")
        for name in ("lr", "momentum", "weight_decay", "gamma", "grad_clip"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{name}: expected a number >= 0, got {value!r}")
            setattr(self, name, float(value))
        if self.betas is not None and (len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas)):
            raise ConfigError(f"betas: expected two numbers in [0, 1), got {self.betas!r}")
        if self.lr <= 0:
            raise ConfigError(f"lr: must be positive, got {self.lr}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (written to the run directory as config.json)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SettingSpec(ParamSpec):
    """A graph-level training setting: a ParamSpec with its group, checked as the engine checks it.

    Besides graph_core's kinds it uses three of its own (the designer maps them to widgets):
    "auto_bool" ("auto", true or false), "floats" (a list of numbers, or unset when nullable) and
    "suggest" (free text with `choices` offered as suggestions: "auto" or a metric name).
    `step` is the increment a spin box uses (None: the widget's own).
    """

    group: str = ""
    step: float | None = None

    def check(self, value: Any) -> Any:
        """The value in the form TrainConfig keeps it; ParamError says what the engine refuses."""
        if value is None and not self.nullable:
            raise ParamError(self.name, "a value is required")
        if self.kind in ("auto_bool", "floats", "suggest"):
            value = _check_own_kind(self, value)
        elif value is not None:
            if self.kind == "choice" and isinstance(value, str):
                value = value.lower()  # the engine takes "SGD" as "sgd"
            value = super().check(value)
        try:
            config = TrainConfig.resolve({self.name: value})
        except ConfigError as exc:
            raise ParamError(self.name, str(exc).split(": ", 1)[-1]) from None
        return getattr(config, self.name)


def _s(name: str, kind: str, group: str, help_text: str, **extra: Any) -> SettingSpec:
    default = TrainConfig.__dataclass_fields__[name].default
    return SettingSpec(name, kind, default, help_text, group=group, **extra)


SETTING_GROUPS = ("Optimiser", "Schedule", "Augmentation", "Early stopping", "Reproducibility",
                  "Runtime")
METRICS = ("auto", "val_loss", "val_accuracy", "val_mae", "val_miou", "val_reconstruction",
           "train_loss")
SETTINGS: tuple[SettingSpec, ...] = (
    _s("optimizer", "choice", "Optimiser", "how the weights are updated: plain SGD (with "
       "momentum), Adam, or AdamW (Adam with decoupled weight decay)", choices=OPTIMIZERS),
    _s("lr", "float", "Optimiser", "learning rate: the size of each update step", minimum=1e-8,
       maximum=10.0, step=1e-4),
    _s("momentum", "float", "Optimiser", "SGD only: how much of the previous step carries over",
       minimum=0.0, maximum=1.0, step=0.05),
    _s("betas", "floats", "Optimiser", "Adam/AdamW: decay rates of the running averages of the "
       "gradient and its square, e.g. 0.9, 0.999 (empty: PyTorch's defaults)", nullable=True),
    _s("weight_decay", "float", "Optimiser", "pulls every weight towards zero (L2 "
       "regularisation); 0 = off", minimum=0.0, step=1e-4),
    _s("grad_clip", "float", "Optimiser", "largest allowed gradient norm before a step; 0 = no "
       "clipping", minimum=0.0, step=0.5),
    _s("epochs", "int", "Schedule", "passes over the training data", minimum=1),
    _s("batch_size", "int", "Schedule", "samples per step: larger is smoother and needs more "
       "memory", minimum=1),
    _s("schedule", "choice", "Schedule", "how the learning rate changes: constant, divided "
       "every step_size epochs, or a cosine decay to zero", choices=SCHEDULES),
    _s("step_size", "int", "Schedule", "step schedule: epochs between two learning-rate "
       "reductions", minimum=1),
    _s("gamma", "float", "Schedule", "step schedule: factor the learning rate is multiplied by",
       minimum=0.0, step=0.05),
    _s("max_steps", "int", "Schedule", "stop after this many steps in all; 0 = no limit",
       minimum=0),
    _s("augment", "choice", "Augmentation", "random small warps of the training images at each "
       "step: shift (up to 1/14 of the side), or affine (shifts, rotations up to 10 degrees and "
       "scalings up to 10%); masks move with their image, validation images are left as they are",
       choices=AUGMENTS),
    _s("early_stopping", "int", "Early stopping", "stop when the monitored figure has not "
       "improved for this many epochs (patience); 0 = off", minimum=0),
    _s("monitor", "suggest", "Early stopping", "the figure that picks the best checkpoint and "
       "early stopping: auto (the task's main validation figure) or a name like val_loss",
       choices=METRICS),
    _s("seed", "int", "Reproducibility", "seeds the weights' initialisation, the split and the "
       "shuffling: the same seed gives the same run", minimum=0),
    _s("device", "suggest", "Runtime", "where to train: auto (a CUDA GPU when there is one), "
       "cpu, cuda, cuda:1, mps", choices=DEVICES),
    _s("amp", "choice", "Runtime", "mixed precision on a GPU: auto (bf16 where supported, else "
       "fp16), or off for plain fp32", choices=AMP_MODES),
    _s("channels_last", "auto_bool", "Runtime", "store images channels-last on a GPU (faster "
       "convolutions); auto: on for CUDA with 2-d convolutions"),
    _s("cudnn_benchmark", "auto_bool", "Runtime", "let cuDNN time its algorithms and keep the "
       "fastest; auto: on for CUDA"),
    _s("compile", "bool", "Runtime", "torch.compile the model first (slower start, faster "
       "steps on a GPU)"),
    _s("samples", "bool", "Runtime", "save a picture of samples after each epoch (when the task "
       "has pictures to show)"),
)


def setting_spec(name: str) -> SettingSpec:
    """The SettingSpec of a training key; KeyError names an unknown one."""
    for spec in SETTINGS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown training setting {name!r}")


@dataclass(frozen=True)
class RuntimePlan:
    """The concrete speed decisions for one device, derived from a config."""

    device: str
    amp_dtype: str | None  # "bfloat16", "float16" or None
    grad_scaler: bool
    channels_last: bool
    cudnn_benchmark: bool
    compile: bool

    def describe(self) -> str:
        bits = [self.device, self.amp_dtype or "fp32"]
        bits += [name for name in ("channels_last", "cudnn_benchmark", "compile") if getattr(self, name)]
        return ", ".join(bits)


def pick_device(requested: str, cuda_available: bool, mps_available: bool) -> str:
    """auto -> cuda, then mps, then cpu; an explicit device that is missing is a ConfigError."""
    if requested == "auto":
        return "cuda" if cuda_available else "mps" if mps_available else "cpu"
    if requested.startswith("cuda") and not cuda_available:
        raise ConfigError("device: cuda was requested but no CUDA GPU is available (use --device cpu)")
    if requested == "mps" and not mps_available:
        raise ConfigError("device: mps was requested but Apple's Metal backend is not available")
    return requested


def plan_runtime(config: TrainConfig, device: str, *, bf16_supported: bool, has_conv2d: bool) -> RuntimePlan:
    """Decide autocast dtype, scaler, memory format and cuDNN autotuning for `device`.

    Pure logic (no torch), so every branch is unit-tested on a machine without a GPU.

    Args:
        config: the checked config.
        device: the device picked by `pick_device`.
        bf16_supported: whether the CUDA device runs bfloat16 (Ampere and later).
        has_conv2d: whether the graph has 2-d convolutions (channels_last only helps those).
    """
    cuda = device.startswith("cuda")
    amp_dtype = None
    if cuda and config.amp != "off":
        if config.amp == "fp16" or (config.amp == "auto" and not bf16_supported):
            amp_dtype = "float16"
        else:
            amp_dtype = "bfloat16"
    channels_last = (cuda and has_conv2d) if config.channels_last == "auto" else bool(config.channels_last)
    benchmark = cuda if config.cudnn_benchmark == "auto" else bool(config.cudnn_benchmark) and cuda
    return RuntimePlan(device=device, amp_dtype=amp_dtype, grad_scaler=amp_dtype == "float16",
                       channels_last=channels_last, cudnn_benchmark=benchmark, compile=bool(config.compile))


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def _check_own_kind(spec: SettingSpec, value: Any) -> Any:
    if spec.kind == "auto_bool":
        word = {"true": True, "false": False, "auto": "auto"}.get(str(value).lower(), value)
        if word not in AUTO_BOOL or (not isinstance(word, bool) and word != "auto"):
            raise ParamError(spec.name, f"use auto, true or false, not {value!r}")
        return word
    if spec.kind == "floats":
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise ParamError(spec.name, f"expected numbers like 0.9, 0.999; got {value!r}")
        return [float(v) for v in value]
    if not isinstance(value, str) or not value.strip():
        raise ParamError(spec.name, f"expected a word such as {spec.choices[0]}; got {value!r}")
    return value.strip()
