"""torchrun support: the same `train` call becomes DistributedDataParallel when launched so.

`torchrun --nproc_per_node=N` sets RANK, WORLD_SIZE and LOCAL_RANK; we then join a process group
(gloo on CPU, nccl on CUDA), give each rank its shard of every epoch through a
DistributedSampler, and let only rank 0 emit events and write files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a (possibly one-process) job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def from_environment() -> DistContext:
    """Read torchrun's variables; a plain run is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    return DistContext(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def setup(ctx: DistContext, device: str) -> str:
    """Join the process group (once) and return this rank's device string."""
    if not ctx.active:
        return device
    import torch.distributed as dist

    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{ctx.local_rank}"
        torch.cuda.set_device(ctx.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return device


def teardown(ctx: DistContext) -> None:
    if ctx.active:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def all_agree_tensor(ctx: DistContext, values: torch.Tensor) -> list[float]:
    """Average a 1-d float64 tensor over ranks and read it (the one host read of a report)."""
    if ctx.active:
        import torch.distributed as dist

        dist.all_reduce(values)
        values = values / ctx.world
    return values.tolist()
