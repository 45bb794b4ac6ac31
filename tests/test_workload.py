"""Workload: Layer/Network shapes, NetWork.csv and YAML files, torch.fx import, bundled networks."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cimgraph.errors import WorkloadError
from cimgraph.workload import (Layer, Network, bundled, from_torch, read_network_csv, read_network_yaml,
                               write_network_csv, write_network_yaml)
from cimgraph.workload.torch_models import MLP, VGG8, ResNet18

# DNN+NeuroSim V2 manual sec. 9, Table II (IFM H, W, C, kernel H, W, out channels, pooling, stride)
TABLE_II = [(32, 32, 3, 3, 3, 128, 0, 1), (32, 32, 128, 3, 3, 128, 1, 1), (16, 16, 128, 3, 3, 256, 0, 1),
            (16, 16, 256, 3, 3, 256, 1, 1), (8, 8, 256, 3, 3, 512, 0, 1), (8, 8, 512, 3, 3, 512, 1, 1),
            (1, 1, 8192, 1, 1, 1024, 0, 1), (1, 1, 1024, 1, 1, 10, 0, 1)]


def test_layer_shapes_by_hand():
    conv = Layer("c", "conv", 128, 256, kernel=3, stride=1, padding=1, input_size=(16, 16), pool=2)
    assert conv.output_size == (16, 16) and conv.pooled_size == (8, 8)
    assert conv.weight_rows == 128 * 9 and conv.weight_columns == 256
    assert conv.input_vectors == 256 and conv.macs == 128 * 9 * 256 * 256
    strided = Layer("s", "conv", 64, 128, kernel=3, stride=2, padding=1, input_size=(56, 56))
    assert strided.output_size == (28, 28)
    grouped = Layer("g", "conv", 32, 64, kernel=3, padding=1, groups=4, input_size=(8, 8))
    assert grouped.weight_rows == 8 * 9
    fc = Layer("f", "fc", 8192, 1024)
    assert fc.input_vectors == 1 and fc.macs == 8192 * 1024


@pytest.mark.parametrize("bad, fragment", [
    (dict(kind="dense"), "kind must be one of"),
    (dict(in_channels=0), "in_channels must be a positive integer"),
    (dict(kernel=5, input_size=(3, 3)), "does not fit the input"),
    (dict(groups=3), "groups=3 must divide"),
    (dict(padding=-1), "padding must be a non-negative integer"),
])
def test_layer_validation(bad, fragment):
    fields = dict(name="x", kind="conv", in_channels=4, out_channels=8, kernel=3, input_size=(8, 8))
    fields.update(bad)
    with pytest.raises(WorkloadError, match=fragment):
        Layer(**fields)


def test_network_rejects_duplicate_names():
    layer = Layer("a", "fc", 4, 4)
    with pytest.raises(WorkloadError, match="used twice"):
        Network("n", (layer, layer))


def test_bundled_vgg8_is_table_ii():
    network = bundled("vgg8")
    assert [l.name for l in network.layers] == ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2"]
    for layer, row in zip(network.layers, TABLE_II):
        height, width, channels, k_len, _, out, pooled, stride = row
        assert layer.input_size == (height, width) and layer.in_channels == channels
        assert layer.kernel == k_len and layer.out_channels == out and layer.stride == stride
        assert layer.pool == (2 if pooled else 1)
    # each layer reads what the previous one wrote (flatten before fc1: 512 x 4 x 4)
    for before, after in zip(network.layers[:5], network.layers[1:6]):
        assert before.pooled_size == after.input_size and before.out_channels == after.in_channels
    assert network.layers[5].out_channels * network.layers[5].pooled_size[0] ** 2 == 8192


def test_netlist_csv_round_trip(tmp_path):
    network = bundled("vgg8")
    path = tmp_path / "NetWork.csv"
    write_network_csv(network, path)
    assert path.read_text().splitlines()[1] == "32,32,128,3,3,128,1,1"
    assert read_network_csv(path, name="vgg8") == network


@st.composite
def csv_networks(draw):
    layers, size, channels = [], draw(st.sampled_from([4, 8, 16, 32])), draw(st.integers(1, 64))
    for index in range(draw(st.integers(1, 5))):
        kernel = draw(st.sampled_from([1, 3, 5]))
        out = draw(st.integers(1, 300))
        pool = 2 if size >= 4 and draw(st.booleans()) else 1
        layers.append(Layer(f"conv{index + 1}", "conv", channels, out, kernel=kernel, padding=(kernel - 1) // 2,
                            input_size=(size, size), pool=pool))
        size, channels = size // pool, out
    layers.append(Layer("fc1", "fc", channels * size * size, draw(st.integers(1, 100))))
    return Network("net", tuple(layers))


@settings(max_examples=40, deadline=None)
@given(csv_networks())
def test_csv_round_trip_property(tmp_path_factory, network):
    path = tmp_path_factory.mktemp("csv") / "net.csv"
    write_network_csv(network, path)
    assert read_network_csv(path, name="net") == network


@pytest.mark.parametrize("text, fragment", [
    ("32,32,3,3,3,128,0\n", "row 1: expected 8 columns"),
    ("32,32,3,3,3,128,0,1\n32,32,x,3,3,128,1,1\n", "row 2, column 3 (IFM channel depth): expected an integer from 1 to 1048576, got 'x'"),
    ("32,32,3,3,3,128,2,1\n", "row 1, column 7 (followed by pooling (0/1)): expected an integer from 0 to 1, got 2"),
    ("32,32,3,3,3,0,0,1\n", "row 1, column 6 (kernel depth): expected an integer from 1 to 1048576, got 0"),
    ("32,32,3,3,5,128,0,1\n", "row 1, columns 4-5: expected a square kernel, got 3x5"),
    ("1,1,16,1,1,8,1,1\n", "row 1: layer 'fc1': pooling factor 2 exceeds the output 1x1"),
    ("\n# only a comment\n", "no layer rows found"),
])
def test_malformed_csv_names_file_row_and_column(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(WorkloadError) as info:
        read_network_csv(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_csv_writer_rejects_what_the_format_cannot_express(tmp_path):
    odd = Network("n", (Layer("c", "conv", 3, 8, kernel=3, padding=0, input_size=(8, 8)),))
    with pytest.raises(WorkloadError, match="assumes padding 1"):
        write_network_csv(odd, tmp_path / "x.csv")


def test_yaml_round_trip_and_errors(tmp_path):
    network = bundled("resnet18")
    path = tmp_path / "r.yaml"
    write_network_yaml(network, path)
    assert read_network_yaml(path) == network
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: n\nlayers:\n  - {name: a, kind: fc, in_channels: 4, out_channel: 2}\n")
    with pytest.raises(WorkloadError, match=r"\$\.layers\[0\]\.out_channel: unknown layer field.*out_channels"):
        read_network_yaml(bad)
    bad.write_text("name: n\nlayers:\n  - {name: a, kind: fc, in_channels: 4}\n")
    with pytest.raises(WorkloadError, match="missing required field 'out_channels'"):
        read_network_yaml(bad)
    bad.write_text("name: n\nlayers: [ {name: a\n")
    with pytest.raises(WorkloadError, match="not valid YAML"):
        read_network_yaml(bad)


def test_bundled_figures():
    resnet = bundled("resnet18")
    assert len(resnet.layers) == 21
    assert resnet.weights == 11_678_912          # torchvision's 11,689,512 parameters less BN and fc bias
    assert resnet.macs == 1_814_073_344          # the usual 1.8 GMAC per 224x224 image
    assert resnet.layer("layer4.1.conv2").pool == 7 and resnet.layer("conv1").pool == 2
    mlp = bundled("mlp")
    assert [(l.in_channels, l.out_channels) for l in mlp.layers] == [(64, 64), (64, 10)]
    with pytest.raises(WorkloadError, match="did you mean 'vgg8'"):
        bundled("vgg9")




@pytest.mark.parametrize("name, model, shape", [("vgg8", VGG8, (1, 3, 32, 32)),
                                                ("resnet18", ResNet18, (1, 3, 224, 224)),
                                                ("mlp", MLP, (1, 64))])
def test_torch_import_matches_bundled(name, model, shape):
    assert from_torch(model(), shape).layers == bundled(name).layers


def test_torch_import_handles_functional_pooling_and_batchnorm():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 16, 3, padding="same")
            self.bn = torch.nn.BatchNorm2d(16)
            self.head = torch.nn.Linear(16, 4)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 4)
            return self.head(x.mean((2, 3)))

    network = from_torch(Net(), (1, 3, 16, 16))
    assert [l.name for l in network.layers] == ["conv", "head"]
    assert network.layers[0].pool == 4 * 4 and network.layers[0].padding == 1


def test_torch_import_rejects_unsupported_modules():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Upsample(scale_factor=2))
    with pytest.raises(WorkloadError, match=r"module '1' \(Upsample\): unsupported module type"):
        from_torch(model, (1, 3, 8, 8))
    with pytest.raises(WorkloadError, match="pooling before any Conv2d/Linear"):
        from_torch(torch.nn.Sequential(torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(48, 2)),
                   (1, 3, 8, 8))
    with pytest.raises(WorkloadError, match="does not run on an input of shape"):
        from_torch(VGG8(), (1, 3, 16, 16))


def test_import_cimgraph_does_not_import_torch():
    code = ("import sys, cimgraph, cimgraph.workload, cimgraph.mapping, cimgraph.mapping.hooks; "
            "cimgraph.bundled('vgg8'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_residual_flag_round_trips_in_yaml_and_is_refused_by_csv(tmp_path):
    import pytest as _pytest

    from cimgraph.errors import WorkloadError
    from cimgraph.workload import bundled, read_network_yaml, write_network_csv, write_network_yaml

    net = bundled("resnet18")
    assert sum(layer.residual for layer in net.layers) == 8
    write_network_yaml(net, tmp_path / "r.yaml")
    assert read_network_yaml(tmp_path / "r.yaml") == net
    with _pytest.raises(WorkloadError) as info:
        write_network_csv(net, tmp_path / "r.csv")
    assert "layer1.0.conv2" in str(info.value) and "skip connection" in str(info.value)
