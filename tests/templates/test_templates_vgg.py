"""VGG at every depth matches torchvision's published parameter counts; transfer_vgg freezes the
feature stages, fine-tunes them at a lower rate, and carries the torchvision key mapping."""

from __future__ import annotations

import pytest

import graph_core as gc
import templates

TORCHVISION_COUNTS = {
    (11, False): 132_863_336, (11, True): 132_868_840,
    (13, False): 133_047_848, (13, True): 133_053_736,
    (16, False): 138_357_544, (16, True): 138_365_992,
    (19, False): 143_667_240, (19, True): 143_678_248,
}


@pytest.mark.parametrize(("depth", "batch_norm"), list(TORCHVISION_COUNTS))
def test_imagenet_vgg_matches_torchvision_parameter_count(depth, batch_norm):
    graph = templates.build("vgg", depth=depth, batch_norm=batch_norm, in_channels=3, input_size=224,
                            num_classes=1000)
    assert gc.validate(graph) == []
    summary = gc.summarize(graph)
    assert summary.total_params == TORCHVISION_COUNTS[(depth, batch_norm)]
    assert summary.trainable_params == summary.total_params
    shapes = gc.infer_shapes(graph)
    assert shapes["stage5"].outputs["y"].shape == (512, 7, 7)
    assert shapes["avgpool"].output_shape == (512, 7, 7)
    assert shapes["flatten"].output_shape == (25088,)
    assert shapes["fc3"].output_shape == (1000,)


def test_vgg16_stages_read_as_blocks_with_the_convolutions_inside():
    graph = templates.build("vgg", depth=16, batch_norm=True, in_channels=3)
    assert [n.id for n in graph.nodes_of_type("Block")] == [f"stage{k}" for k in range(1, 6)]
    convs = [[n.id for n in graph.blocks[f"stage{k}"].nodes_of_type("Conv2d")] for k in range(1, 6)]
    assert convs[2] == ["conv3_1", "conv3_2", "conv3_3"]
    assert sum(len(c) for c in convs) == 13
    assert len(list(graph.blocks["stage4"].nodes_of_type("BatchNorm"))) == 3
    rows = {r.id: r.params for r in gc.summarize(graph).rows}
    # stage 1 of vgg16_bn: two 3x3 convs with 64 filters and their batch norms
    assert rows["stage1"] == (3 * 64 * 9 + 64) + 2 * 64 + (64 * 64 * 9 + 64) + 2 * 64


@pytest.mark.parametrize("depth", [11, 13, 16, 19])
def test_small_inputs_work(depth):
    graph = templates.build("vgg", depth=depth, in_channels=1, input_size=32, num_classes=10)
    assert gc.validate(graph) == []
    shapes = gc.infer_shapes(graph)
    assert shapes["stage5"].outputs["y"].shape == (512, 1, 1)
    assert shapes["avgpool"].output_shape == (512, 1, 1)
    assert shapes["fc3"].output_shape == (10,)
    assert graph.data == {"dataset": "digits", "image_size": 32}


def test_classifier_width_dropout_and_pool_size():
    graph = templates.build("vgg", depth=11, classifier_width=256, dropout=0.3, pool_size=2, input_size=64)
    shapes = gc.infer_shapes(graph)
    assert shapes["avgpool"].output_shape == (512, 2, 2)
    assert shapes["fc1"].output_shape == (256,)
    assert graph.nodes["dropout2"].params["p"] == 0.3


def test_transfer_vgg_freezes_features_and_trains_a_new_head():
    graph = templates.build("transfer_vgg", depth=16, in_channels=3, num_classes=5)
    assert gc.validate(graph) == []
    stages = list(graph.nodes_of_type("Block"))
    assert len(stages) == 5 and all(n.frozen for n in stages)
    summary = gc.summarize(graph)
    features = 14_714_688  # torchvision vgg16.features
    assert sum(r.params for r in summary.rows if r.type == "Block") == features
    head = 512 * 256 + 256 + 256 * 5 + 5
    assert summary.total_params == features + head
    assert summary.trainable_params == head
    assert gc.infer_shapes(graph)["head_out"].output_shape == (5,)
    assert "to_rgb" not in graph.nodes


def test_transfer_vgg_fine_tune_unfreezes_at_a_lower_rate():
    graph = templates.build("transfer_vgg", fine_tune=True, fine_tune_lr_factor=0.05)
    stages = list(graph.nodes_of_type("Block"))
    assert not any(n.frozen for n in stages)
    assert {n.lr_factor for n in stages} == {0.05}
    assert graph.nodes["head_out"].lr_factor == 1.0
    summary = gc.summarize(graph)
    assert summary.trainable_params == summary.total_params


def test_transfer_vgg_grey_images_get_a_learned_rgb_adapter():
    graph = templates.build("transfer_vgg", in_channels=1)
    shapes = gc.infer_shapes(graph)
    assert shapes["to_rgb"].output_shape == (3, 32, 32)
    assert not graph.nodes["to_rgb"].frozen


def test_transfer_vgg_declares_its_weights_and_key_mapping():
    graph = templates.build("transfer_vgg", depth=11, batch_norm=True, weights="/data/vgg11_bn.pth")
    init = graph.training["init_weights"]
    assert init["path"] == "/data/vgg11_bn.pth" and init["format"] == "torchvision_vgg"
    keys = init["keys"]
    assert keys["features.0"] == "stage1/conv1_1"
    assert keys["features.1"] == "stage1/bn1_1"
    assert keys["features.4"] == "stage2/conv2_1"  # conv, bn, relu, pool come before it
    assert keys["features.22"] == "stage5/conv5_1"
    assert keys["features.26"] == "stage5/bn5_2"
    assert keys["classifier.0"] is None and keys["classifier.6"] is None
    # every mapped node exists inside its block
    for path in filter(None, keys.values()):
        block, node = path.split("/")
        assert node in graph.blocks[graph.nodes[block].params["block"]].nodes


@pytest.mark.parametrize(("depth", "batch_norm", "last_conv"), [
    (11, False, "features.18"), (13, False, "features.22"), (16, False, "features.28"),
    (19, False, "features.34"), (16, True, "features.40"), (19, True, "features.49"),
])
def test_key_mapping_follows_torchvision_indices(depth, batch_norm, last_conv):
    keys = templates.torchvision_vgg_keys(depth, batch_norm)
    convs = [k for k, v in keys.items() if v and "/conv" in v]
    assert convs[-1] == last_conv
    assert len(convs) == depth - 3
    assert keys["classifier.3"] == "fc2"
