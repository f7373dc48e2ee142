"""Training settings: plain data, defaults from the graph's `training` section, overridable.

`TrainConfig.resolve(graph.training, overrides)` merges the two (overrides win) and checks every
value, so a typo in a CLI flag fails before any work starts. The GPU switches (`amp`,
`channels_last`, `cudnn_benchmark`, `compile`) default to "auto": on for CUDA where they help,
off elsewhere; `RuntimePlan` turns them into concrete decisions for one device.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
AMP_MODES = ("auto", "bf16", "fp16", "off")
AUTO_BOOL = ("auto", True, False)
AUGMENTS = ("none", "shift", "affine")


class ConfigError(ValueError):
    """A training setting is unknown or out of range; the message names the key."""


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
            else:
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
