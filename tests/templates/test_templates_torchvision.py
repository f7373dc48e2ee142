"""resnet and mobilenet_v2 are torchvision's networks: exact parameter counts at 3×224×224 with
1000 classes, and identical outputs once a torchvision-layout state dict is loaded by name.

The torchvision twins are written out by hand in tests/templates/torchvision_twins.py (torchvision
is not installed); their state-dict keys are torchvision's."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import graph_core as gc  # noqa: E402
import templates  # noqa: E402
from codegen import compile_graph  # noqa: E402
from codegen.pretrained import load_state_dict_by_name  # noqa: E402
from tests.templates import torchvision_twins as twins  # noqa: E402

# torchvision's published parameter counts (weights tables of torchvision.models)
PUBLISHED = {("resnet", 18): 11_689_512, ("resnet", 34): 21_797_672, ("resnet", 50): 25_557_032,
             ("mobilenet_v2", None): 3_504_872}


def _build(name: str, depth: int | None, **params):
    if depth is not None:
        params["depth"] = depth
    return templates.build(name, **params)


@pytest.mark.parametrize("name,depth", list(PUBLISHED))
def test_parameter_counts_equal_torchvision_at_imagenet_size(name, depth):
    graph = _build(name, depth, in_channels=3, input_size=224, num_classes=1000)
    assert gc.summarize(graph).total_params == PUBLISHED[(name, depth)]
    assert gc.validate(graph) == []


def _twin(name: str, depth: int | None, **kwargs):
    net = twins.resnet(depth, **kwargs) if name == "resnet" else twins.MobileNetV2(**kwargs)
    return twins.randomise_statistics(net).eval()


@pytest.mark.parametrize("name,depth", [("resnet", 18), ("resnet", 50), ("mobilenet_v2", None)])
def test_torchvision_weights_load_by_name_and_outputs_are_identical(tmp_path, name, depth):
    torch.manual_seed(0)
    small = {"base_width": 8} if name == "resnet" else {"width_mult": 0.25}
    twin = _twin(name, depth, num_classes=7, in_channels=3, **small)
    path = tmp_path / "weights.pth"
    torch.save(twin.state_dict(), path)
    graph = _build(name, depth, in_channels=3, input_size=64, num_classes=7, **small)
    model = compile_graph(graph).eval()
    report = load_state_dict_by_name(model, graph, path)
    assert report.ok, str(report)
    assert sorted(report.loaded) == sorted(twin.state_dict())
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in twin.parameters())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), twin(x))


def test_the_keys_name_torchvision_module_paths():
    keys = templates.build("resnet", depth=50).training["init_weights"]["keys"]
    assert keys["layer1.0.downsample.0"] == "layer1_0/downsample_0"
    assert keys["layer4.2.conv3"] == "layer4_2/conv3" and keys["fc"] == "fc"
    keys = templates.build("mobilenet_v2").training["init_weights"]["keys"]
    assert keys["features.1.conv.0.0"] == "features_1/conv_0_0"  # t = 1: no expansion conv
    assert keys["features.2.conv.1.0"] == "features_2/conv_1_0" and keys["features.18.0"] == "features_18_0"
    assert keys["classifier.1"] == "classifier_1"


@pytest.mark.parametrize("base,depth", [("resnet", 18), ("mobilenet_v2", 0), ("vgg", 11)])
def test_transfer_loads_the_features_by_name_and_ignores_the_replaced_classifier(tmp_path, base, depth):
    torch.manual_seed(0)
    if base == "resnet":
        twin = _twin("resnet", 18)
    elif base == "mobilenet_v2":
        twin = _twin("mobilenet_v2", None)
    else:
        from tests.templates.test_templates_pretrained import TorchvisionStyleVGG

        twin = TorchvisionStyleVGG(11, False).eval()
    path = tmp_path / f"{base}.pth"
    torch.save(twin.state_dict(), path)
    graph = templates.build("transfer", base=base, depth=depth, in_channels=1, num_classes=4, head_width=8,
                            weights=str(path))
    assert gc.validate(graph) == []
    model = compile_graph(graph).eval()
    report = load_state_dict_by_name(model, graph)
    assert report.ok, str(report)
    classifier = ("fc.", "classifier.")
    assert sorted(report.ignored) == sorted(k for k in twin.state_dict() if k.startswith(classifier))
    assert sorted(report.loaded) == sorted(k for k in twin.state_dict() if not k.startswith(classifier))
    frozen = {n.id for n in graph.nodes.values() if n.frozen}
    assert "head_fc" not in frozen and "to_rgb" not in frozen and len(frozen) > 3
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == gc.summarize(graph).trainable_params


def test_transfer_refuses_a_depth_its_base_does_not_have():
    with pytest.raises(templates.TemplateError, match="depth 16 does not exist for resnet"):
        templates.build("transfer", base="resnet", depth=16)


def test_transfer_vgg_still_builds_under_its_old_name_but_is_not_listed():
    assert "transfer_vgg" not in [t.name for t in templates.all_templates()]
    graph = templates.build("transfer_vgg", depth=11)
    assert graph.training["init_weights"]["format"] == "torchvision_vgg"
