"""Loading torchvision-format VGG weights into a transfer_vgg graph: the tensors land on the right
nodes (the compiled features compute what torchvision's would), and every key that does not fit
is reported. The state dicts are built here by hand in torchvision's layout."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
codegen = pytest.importorskip("codegen")

import templates  # noqa: E402
from codegen.errors import WeightsError  # noqa: E402
from codegen.pretrained import load_torchvision_vgg  # noqa: E402
from templates.vgg import STAGES, WIDTHS  # noqa: E402

nn = torch.nn


class TorchvisionStyleVGG(nn.Module):
    """torchvision.models.VGG's module layout (features / avgpool / classifier), written out so
    its state-dict keys are exactly torchvision's. The classifier is narrow to keep files small;
    transfer learning replaces it anyway."""

    def __init__(self, depth: int, batch_norm: bool, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for convs, out in zip(STAGES[depth], WIDTHS):
            for _ in range(convs):
                layers.append(nn.Conv2d(channels, out, kernel_size=3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU(inplace=True))
                channels = out
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, width), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(width, width), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(width, 1000))


def _pretrained(depth: int, batch_norm: bool, tmp_path, seed: int = 0):
    torch.manual_seed(seed)
    net = TorchvisionStyleVGG(depth, batch_norm)
    with torch.no_grad():  # non-trivial running statistics, so copying them shows
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    path = tmp_path / f"vgg{depth}{'_bn' if batch_norm else ''}.pth"
    torch.save(net.state_dict(), path)
    return net.eval(), path


def _features(model, x):
    for k in range(1, 6):
        x = model.get_submodule(model.node_modules[f"stage{k}"])(x)
    return x


@pytest.mark.parametrize("batch_norm", [False, True])
def test_loaded_features_compute_what_torchvision_computes(tmp_path, batch_norm):
    net, path = _pretrained(11, batch_norm, tmp_path)
    graph = templates.build("transfer_vgg", depth=11, batch_norm=batch_norm, in_channels=3,
                            weights=str(path))
    model = codegen.compile_graph(graph).eval()
    report = load_torchvision_vgg(model, graph)
    assert report.ok, str(report)
    features = [k for k in net.state_dict() if k.startswith("features.")]
    assert sorted(report.loaded) == sorted(features)
    assert sorted(report.ignored) == sorted(k for k in net.state_dict() if k.startswith("classifier."))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(_features(model, x), net.features(x), atol=1e-5)
    stage1 = model.get_submodule(model.node_modules["stage1"])
    assert torch.equal(stage1.get_submodule("conv1_1").weight, net.features[0].weight)


def test_every_key_that_does_not_fit_is_reported_and_the_rest_still_load(tmp_path):
    net, path = _pretrained(11, False, tmp_path)
    state = net.state_dict()
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)  # a grey-image model's first conv
    state["features.99.weight"] = torch.zeros(3)  # a layer this VGG does not have
    state["features.3.running_mean"] = torch.zeros(128)  # a tensor conv2_1 does not have
    del state["features.3.bias"]
    torch.save(state, path)
    graph = templates.build("transfer_vgg", depth=11, in_channels=3, weights=str(path))
    model = codegen.compile_graph(graph)
    report = load_torchvision_vgg(model, graph)
    assert not report.ok
    assert report.shape_mismatches == [("features.0.weight", (64, 1, 3, 3), (64, 3, 3, 3))]
    assert sorted(report.unexpected_keys) == ["features.3.running_mean", "features.99.weight"]
    assert report.missing_keys == ["features.3.bias"]
    assert "features.0.bias" in report.loaded and "features.18.weight" in report.loaded
    lines = report.lines()
    assert "features.0.weight: shape [64, 1, 3, 3] in the file, [64, 3, 3, 3] in the model" in lines
    assert "features.99.weight: no node takes this tensor" in lines
    stage2 = model.get_submodule(model.node_modules["stage2"])
    assert torch.equal(stage2.get_submodule("conv2_1").weight, net.features[3].weight)


def test_weights_of_a_deeper_vgg_report_the_layers_the_graph_lacks(tmp_path):
    _, path = _pretrained(13, False, tmp_path)
    graph = templates.build("transfer_vgg", depth=11, in_channels=3)
    report = load_torchvision_vgg(codegen.compile_graph(graph), graph, path)
    assert report.shape_mismatches or report.unexpected_keys
    assert not report.ok


def test_a_mapping_that_names_a_missing_node_is_reported(tmp_path):
    _, path = _pretrained(11, False, tmp_path)
    graph = templates.build("transfer_vgg", depth=11, in_channels=3)
    keys = dict(graph.training["init_weights"]["keys"], **{"features.0": "stage9/conv9_1"})
    report = load_torchvision_vgg(codegen.compile_graph(graph), graph, path, keys=keys)
    assert report.missing_nodes == ["stage9/conv9_1"]
    assert "features.0.weight" not in report.loaded


def test_refuses_files_that_are_not_state_dicts_and_never_unpickles_code(tmp_path):
    graph = templates.build("transfer_vgg", depth=11, in_channels=3)
    model = codegen.compile_graph(graph)
    with pytest.raises(WeightsError, match="no pretrained weights file given"):
        load_torchvision_vgg(model, graph)
    with pytest.raises(WeightsError, match="no such weights file"):
        load_torchvision_vgg(model, graph, tmp_path / "missing.pth")
    pickled = tmp_path / "code.pth"
    torch.save({"features.0.weight": torch.zeros(1), "hook": _Hook()}, pickled)
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_torchvision_vgg(model, graph, pickled)
    plain = templates.build("vgg", depth=11)
    with pytest.raises(WeightsError, match="no key mapping"):
        load_torchvision_vgg(codegen.compile_graph(plain), plain, pickled)


class _Hook:
    """An arbitrary object: loading it would need unpickling code, which weights_only refuses."""
