"""Benchmark: does the generated module train as fast as the same network written by hand?

For a LeNet-size and a VGG-11-size (32x32 input) network, the generated module and a plain
PyTorch twin (same layers, same initial weights) take forward + backward + SGD steps in
interleaved rounds in one process; each round times both, and the median of the per-round
ratios generated / hand is reported (budget <= 1.03). Also: generate_source and compile_graph
time for a 1,000-node graph, and the peak activation memory of one training forward of each
twin (budget: generated <= hand; see `activation_peak` for how it is counted).

Usage:
    .venv/bin/python benchmarks/bench_codegen.py [--device cpu|cuda] [--rounds N] [--quick] [--json]
    .venv/bin/python benchmarks/bench_codegen.py --memory     # the memory comparison alone
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import weakref
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import codegen  # noqa: E402
from graph_core import Edge, Graph, Node  # noqa: E402

BUDGET = 1.03
VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


def _graph(name: str, input_shape: list[int], layers: list[tuple[str, dict]]) -> Graph:
    g = Graph(name=name)
    g.nodes["image"] = Node("image", "Input", {"shape": input_shape})
    prev = "image"
    for k, (type_name, params) in enumerate(layers):
        nid = f"{type_name.lower()}{k}"
        g.nodes[nid] = Node(nid, type_name, params)
        g.edges.append(Edge((prev, "out"), (nid, "in")))
        prev = nid
    g.nodes["label"] = Node("label", "Output", {})
    g.edges.append(Edge((prev, "out"), ("label", "in")))
    return g


def lenet() -> tuple[Graph, nn.Module]:
    layers = [("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}), ("ReLU", {}),
              ("MaxPool2d", {}), ("Conv2d", {"out_channels": 16, "kernel_size": 5}), ("ReLU", {}),
              ("MaxPool2d", {}), ("Flatten", {}), ("Dense", {"out_features": 120}), ("ReLU", {}),
              ("Dense", {"out_features": 84}), ("ReLU", {}), ("Dense", {"out_features": 10})]
    hand = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return _graph("lenet", [1, 28, 28], layers), hand


def vgg11() -> tuple[Graph, nn.Module]:
    layers: list[tuple[str, dict]] = []
    hand: list[nn.Module] = []
    channels = 3
    for v in VGG11:
        if v == "M":
            layers.append(("MaxPool2d", {}))
            hand.append(nn.MaxPool2d(2))
        else:
            layers += [("Conv2d", {"out_channels": v, "kernel_size": 3, "padding": 1}), ("ReLU", {})]
            hand += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU()]
            channels = v
    layers += [("Flatten", {}), ("Dense", {"out_features": 512}), ("ReLU", {}),
               ("Dense", {"out_features": 10})]
    hand += [nn.Flatten(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)]
    return _graph("vgg11", [3, 32, 32], layers), nn.Sequential(*hand)


def _same_weights(generated: nn.Module, hand: nn.Module) -> None:
    """Copy the hand model's weights into the generated one (both list layers in order)."""
    src = [p for p in hand.parameters()]
    dst = [p for p in generated.parameters()]
    assert [p.shape for p in src] == [p.shape for p in dst], "the twins differ"
    with torch.no_grad():
        for s, d in zip(src, dst):
            d.copy_(s)


def _stepper(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def _time(step, n: int, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / n


def step_ratio(name: str, build, batch: int, rounds: int, steps: int, device: str) -> dict:
    torch.manual_seed(0)
    graph, hand = build()
    generated = codegen.compile_graph(graph)
    _same_weights(generated, hand)
    generated.to(device).train()
    hand.to(device).train()
    shape = generated.generated.input_types[0].shape
    x = torch.randn(batch, *shape, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    with torch.no_grad():
        assert torch.allclose(generated(x), hand(x), atol=1e-5), "the twins compute different things"
    steps_gen, steps_hand = _stepper(generated, x, y), _stepper(hand, x, y)
    for _ in range(2):  # warm-up: allocator, kernels
        steps_gen(), steps_hand()
    ratios, gen_times, hand_times = [], [], []
    for r in range(rounds):
        # alternate which goes first, so drift in machine load hits both alike
        if r % 2:
            th = _time(steps_hand, steps, device)
            tg = _time(steps_gen, steps, device)
        else:
            tg = _time(steps_gen, steps, device)
            th = _time(steps_hand, steps, device)
        ratios.append(tg / th)
        gen_times.append(tg)
        hand_times.append(th)
    return {"network": name, "device": device, "batch": batch, "rounds": rounds, "steps": steps,
            "params": sum(p.numel() for p in hand.parameters()),
            "generated_ms": 1e3 * statistics.median(gen_times),
            "hand_ms": 1e3 * statistics.median(hand_times),
            "median_ratio": statistics.median(ratios), "ratio_of_fastest": min(gen_times) / min(hand_times),
            "budget": BUDGET}


def activation_peak(model: nn.Module, x: torch.Tensor) -> dict:
    """Peak activation bytes of one training forward (with grad), counted tensor by tensor.

    CPU torch has no allocator statistics (and tracemalloc does not see its allocations), so
    the live activations are counted directly each time a leaf module finishes: the union, by
    storage (views and a ReLU's saved output count once), of (a) every module output still
    alive (a weak reference: alive means a variable of forward or autograd still holds it)
    and (b) every tensor autograd has saved for backward so far (`saved_tensors_hooks`).
    Parameters and the input batch are left out: both twins hold them alike. The largest sum
    is the peak; in training it is reached at the end of forward, as backward only frees.
    Temporaries inside one module call (a conv's workspace) are the same for both twins and
    are not seen; nor would be a fresh tensor made outside a module and held by nothing else
    (these networks have none: their Flatten is a view).
    """
    left_out = {p.untyped_storage().data_ptr() for p in model.parameters()}
    left_out.add(x.untyped_storage().data_ptr())
    saved: dict[int, int] = {}
    outputs: list[weakref.ref] = []
    peak = 0

    def live_bytes() -> int:
        storages = dict(saved)
        for ref in outputs:
            t = ref()
            if t is not None:
                storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return sum(n for ptr, n in storages.items() if ptr not in left_out)

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    def hook(_module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
        nonlocal peak
        outputs.append(weakref.ref(out))
        peak = max(peak, live_bytes())

    hooks = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
    del out
    return {"peak_bytes": peak, "saved_bytes": sum(n for p, n in saved.items() if p not in left_out)}


def memory_ratio(name: str, build, batch: int) -> dict:
    torch.manual_seed(0)
    graph, hand = build()
    generated = codegen.compile_graph(graph).train()
    hand.train()
    x = torch.randn(batch, *generated.generated.input_types[0].shape)
    g, h = activation_peak(generated, x), activation_peak(hand, x)
    return {"network": name, "batch": batch, "generated_peak_mb": g["peak_bytes"] / 2**20,
            "hand_peak_mb": h["peak_bytes"] / 2**20, "saved_for_backward_mb": h["saved_bytes"] / 2**20,
            "peak_ratio": g["peak_bytes"] / h["peak_bytes"]}


def big_graph(n_nodes: int = 1000) -> Graph:
    """Input -> (Dense 32 -> ReLU) repeated -> Output: n_nodes nodes in all."""
    layers = [("Dense", {"out_features": 32}) if k % 2 == 0 else ("ReLU", {}) for k in range(n_nodes - 2)]
    return _graph("chain1000", [32], layers)


def codegen_time(repeats: int) -> dict:
    g = big_graph()
    gen, comp = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        codegen.generate_source(g)
        gen.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        codegen.compile_graph(g)
        comp.append(time.perf_counter() - t0)
    return {"nodes": len(g.nodes), "generate_source_ms": 1e3 * statistics.median(gen),
            "compile_graph_ms": 1e3 * statistics.median(comp)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--rounds", type=int, default=0, help="rounds per network (default 40 LeNet, 15 VGG)")
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--memory", action="store_true", help="only the peak-memory comparison")
    args = parser.parse_args(argv)
    results: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(), "ratios": [],
                     "memory": []}
    for name, build, batch in (("LeNet-5 (1x28x28)", lenet, 64), ("VGG-11 (3x32x32)", vgg11, 32)):
        m = memory_ratio(name, build, batch)
        results["memory"].append(m)
        if not args.json:
            print(f"{m['network']:<20} batch {m['batch']:>3}: peak activations generated "
                  f"{m['generated_peak_mb']:.2f} MiB, hand {m['hand_peak_mb']:.2f} MiB, ratio "
                  f"{m['peak_ratio']:.3f} (budget 1.0); saved for backward {m['saved_for_backward_mb']:.2f} MiB",
                  flush=True)
    memory_ok = all(m["peak_ratio"] <= 1.0 for m in results["memory"])
    if args.memory:
        if args.json:
            print(json.dumps(results))
        return 0 if memory_ok else 1
    if args.device == "cuda":
        results["card"] = torch.cuda.get_device_name(0)
    big = args.device == "cuda"
    for name, build, batch, steps, default_rounds in (
            ("LeNet-5 (1x28x28)", lenet, 256 if big else 64, 10 if big else 3, 40),
            ("VGG-11 (3x32x32)", vgg11, 256 if big else 32, 10 if big else 1, 15)):
        rounds = 3 if args.quick else (args.rounds or default_rounds)
        r = step_ratio(name, build, batch, rounds, steps, args.device)
        results["ratios"].append(r)
        if not args.json:
            print(f"{r['network']:<20} {args.device} batch {r['batch']:>3}: generated "
                  f"{r['generated_ms']:8.2f} ms, hand {r['hand_ms']:8.2f} ms, median ratio "
                  f"{r['median_ratio']:.3f} (budget {BUDGET}), fastest/fastest "
                  f"{r['ratio_of_fastest']:.3f}, {r['rounds']} rounds", flush=True)
    results["codegen"] = codegen_time(1 if args.quick else 3)
    if args.json:
        print(json.dumps(results))
    else:
        c = results["codegen"]
        print(f"{c['nodes']}-node graph: generate_source {c['generate_source_ms']:.0f} ms, "
              f"compile_graph {c['compile_graph_ms']:.0f} ms")
    return 0 if memory_ok and all(r["median_ratio"] <= BUDGET for r in results["ratios"]) else 1


if __name__ == "__main__":
    sys.exit(main())
