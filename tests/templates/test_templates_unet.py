"""U-Net, padded and as the 2015 paper drew it: valid convolutions, skips cropped to fit, the
image mirrored at its border; the paper's sizes (572 in, 388 out) and a hand-written twin's
parameter count and outputs."""

from __future__ import annotations

import pytest

import graph_core as gc
import templates
from templates import TemplateError


def test_the_valid_unet_has_the_papers_sizes():
    graph = templates.build("unet", variant="valid", depth=4, base_channels=64, num_classes=2, input_size=388)
    assert gc.validate(graph) == []
    shapes = gc.infer_shapes(graph)
    assert shapes["mirror"].output_shape == (1, 572, 572)
    assert [shapes[f"enc{k}_relu2"].output_shape[1] for k in range(1, 5)] == [568, 280, 136, 64]
    assert shapes["bottom_relu2"].output_shape == (1024, 28, 28)
    assert [shapes[f"crop{k}"].output_shape[1] for k in range(4, 0, -1)] == [56, 104, 200, 392]
    assert shapes["classify"].output_shape == (2, 388, 388)
    assert graph.nodes["crop1"].params["crop"] == 88  # (568 - 392) / 2 off each side


def test_padded_unet_keeps_the_size_and_refuses_sizes_it_cannot_halve():
    graph = templates.build("unet", input_size=32, depth=3)
    assert gc.infer_shapes(graph)["classify"].output_shape == (4, 32, 32)
    with pytest.raises(TemplateError, match="input_size 36 must be divisible by 2\\^depth = 8"):
        templates.build("unet", input_size=36, depth=3)
    with pytest.raises(TemplateError, match="no input gives exactly 33 pixels out; use input_size one of"):
        templates.build("unet", variant="valid", input_size=33, depth=2)


@pytest.mark.parametrize("variant", ["padded", "valid"])
def test_unet_equals_a_hand_written_twin(variant):
    torch = pytest.importorskip("torch")
    from codegen import compile_graph
    from tests.templates.unet_twin import UNet

    graph = templates.build("unet", variant=variant, depth=2, base_channels=4, num_classes=3, input_size=32)
    model = compile_graph(graph).eval()
    twin = UNet(1, 3, depth=2, base=4, valid=variant == "valid").eval()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in twin.parameters())
    assert gc.summarize(graph).total_params == sum(p.numel() for p in twin.parameters())
    own = [p for _, p in sorted(model.named_parameters(), key=lambda kv: _order(graph, model, kv[0]))]
    with torch.no_grad():
        for mine, theirs in zip(own, twin.ordered_parameters(), strict=True):
            mine.copy_(theirs)
        x = torch.randn(2, 1, 32, 32)
        assert torch.equal(model(x), twin(x))


def _order(graph, model, name: str) -> tuple[int, str]:
    attr = {v: k for k, v in model.node_modules.items()}[name.rpartition(".")[0]]
    return list(graph.nodes).index(attr), name.rpartition(".")[2] != "weight"
