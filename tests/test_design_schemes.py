"""Tile designs selected by mapping scheme (netlist ``designs.<name>.schemes``) and two-port buffers
(``buffer.dff`` ``ports``).

DNN+NeuroSim V1.4 (Chip.cpp ChipDesignInitialize, markNM) maps a convolution with the network's most common
kernel and at least a subarray of weight rows per kernel position, and every other layer conventionally onto
a second tile design; ``schemes: [conventional]`` says the same of any netlist.
"""
from __future__ import annotations

import copy
import os

import pytest
import yaml
from hypothesis import given, settings, strategies as st

import cimgraph
from cimgraph import NetlistError, bundled
from cimgraph.mapping.floorplan import layer_schemes
from cimgraph.netlist.designs import SCHEMES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VGG8_RRAM = os.path.join(ROOT, "netlists", "vgg8_rram_22nm.yaml")
NEUROSIM = os.path.join(ROOT, "netlists", "neurosim_v14_rram_22nm.yaml")


def raw_netlist(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def with_design(raw: dict, **design) -> dict:
    """``raw`` plus a design ``dense`` with the chip's own tile hierarchy and the given keys."""
    raw = copy.deepcopy(raw)
    raw["designs"] = {"dense": {"tile": copy.deepcopy(raw["chip"]["tile"]), **design}}
    return raw


def test_layer_schemes_follow_the_novel_mapping_rule():
    net = bundled("vgg8")
    # conv1 has 3 x 3 x 3 = 27 weight rows, under one 128-row subarray; fc layers have a 1 x 1 kernel
    assert layer_schemes(net, "novel", 128) == ["conventional"] + ["novel"] * 5 + ["conventional"] * 2
    assert layer_schemes(net, "novel", 16) == ["novel"] * 6 + ["conventional"] * 2
    assert layer_schemes(net, "conventional", 128) == ["conventional"] * 8


def test_a_design_takes_the_layers_its_scheme_selects():
    chip = cimgraph.load_netlist(with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"], schemes=["conventional"]))
    mapping = cimgraph.map_network(chip, bundled("vgg8"))
    assert [p.layer.name for p in mapping.parts["dense"].layers] == ["conv1", "fc1", "fc2"]
    assert [p.layer.name for p in mapping.parts["chip"].layers] == ["conv2", "conv3", "conv4", "conv5", "conv6"]
    assert all(p.scheme == "novel" for p in mapping.parts["chip"].layers)
    # without schemes the design takes every layer of its kinds, as before
    every = cimgraph.map_network(cimgraph.load_netlist(with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"])),
                                 bundled("vgg8"))
    assert list(every.parts) == ["dense"] and len(every.parts["dense"].layers) == 8
    # kinds and schemes together: only the fully-connected layers the chip maps conventionally
    fc_only = cimgraph.map_network(cimgraph.load_netlist(with_design(raw_netlist(VGG8_RRAM), runs=["fc"],
                                                                     schemes=["conventional"])), bundled("vgg8"))
    assert [p.layer.name for p in fc_only.parts["dense"].layers] == ["fc1", "fc2"]


def test_the_chip_mapping_method_decides_the_schemes():
    chip = cimgraph.load_netlist(with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"], schemes=["conventional"]))
    mapping = cimgraph.map_network(chip, bundled("vgg8"), method="conventional")
    assert list(mapping.parts) == ["dense"] and len(mapping.parts["dense"].layers) == 8
    result = cimgraph.evaluate(mapping)
    assert result.macs == bundled("vgg8").macs
    # the summary's one subarray is the design's that runs the network (the primary design has no layers)
    assert result.subarray_area > 0 and result.subarray_placed_area >= result.subarray_area


def test_a_static_design_shares_the_chip_level_once():
    """Its layers' chip-level work is costed as the chip's own layers' (here the chip buffer, whose cost does
    not depend on where the tiles sit; its inputs, never its weights, come from there); the chip level's
    components are counted once."""
    net = bundled("vgg8")
    single = cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(VGG8_RRAM), net))
    chip = cimgraph.load_netlist(with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"], schemes=["conventional"]))
    hybrid = cimgraph.evaluate(cimgraph.map_network(chip, net))
    for name in ("conv1", "fc1", "fc2"):
        ours = next(lr for lr in hybrid.layers if lr.name == name).energy_by_component
        alone = next(lr for lr in single.layers if lr.name == name).energy_by_component
        assert ours["dense:chip/buffer"] == pytest.approx(alone["chip/buffer"], rel=1e-12)
        assert ours["dense:chip/relu"] > 0 and ours["dense:chip/htree"] > 0
    chip_level = [c.path for c in hybrid.components if c.path.split(":")[-1].count("/") == 1]
    assert sorted(chip_level) == sorted(c.path for c in single.components if c.path.count("/") == 1)
    assert hybrid.area == pytest.approx(sum(c.area for c in hybrid.components))
    assert hybrid.placed_area > hybrid.area


def test_the_neurosim_netlist_states_its_second_tile_design():
    chip = cimgraph.load_netlist(NEUROSIM)
    design = chip.spec.designs["conventional"]
    assert design.runs == ("conv", "fc") and design.schemes == ("conventional",) and design.static
    mapping = cimgraph.map_network(chip, bundled("vgg8"))
    assert [p.tiles for p in mapping.layers] == [2, 8, 4, 8, 8, 8, 64, 1]   # NeuroSim's floorplan (issue 18)


@pytest.mark.parametrize("schemes, expected", [
    (["conventinal"], r"\$\.designs\.dense\.schemes: unknown mapping scheme 'conventinal'.*did you mean "
                      r"'conventional'"),
    (["novel"], r"\$\.designs\.dense\.schemes: 'novel' layers stay on the chip's own tiles"),
    ("conventional", r"\$\.designs\.dense\.schemes: expected a list of mapping schemes"),
])
def test_scheme_problems_name_their_path(schemes, expected):
    raw = with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"], schemes=schemes)
    with pytest.raises(NetlistError, match=expected):
        cimgraph.load_netlist(raw, file="d.yaml")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(SCHEMES + ("novel", "conv", "Conventional", "")), max_size=3))
def test_any_scheme_list_loads_or_names_its_path(schemes):
    raw = with_design(raw_netlist(VGG8_RRAM), runs=["conv", "fc"], schemes=schemes)
    if set(schemes) <= set(SCHEMES):
        assert cimgraph.load_netlist(raw).spec.designs["dense"].schemes == tuple(schemes)
    else:
        with pytest.raises(NetlistError, match=r"\$\.designs\.dense\.schemes: "):
            cimgraph.load_netlist(raw, file="h.yaml")


def test_a_dynamic_layer_its_design_schemes_exclude_is_named():
    """Attention products are block-diagonal (one block per head): the chip maps them 'grouped'."""
    from cimgraph.errors import MappingError
    from cimgraph.workload.transformer import vit

    raw = raw_netlist(os.path.join(ROOT, "netlists", "hybrid_vit_22nm.yaml"))
    raw["designs"]["attention"]["schemes"] = ["conventional"]
    with pytest.raises(MappingError, match=r"design attention runs matmul but takes only schemes conventional.*"
                                           r"'grouped'"):
        cimgraph.map_network(cimgraph.load_netlist(raw), vit("vit2", width=64, depth=1, heads=2, mlp=128))
    raw["designs"]["attention"]["schemes"] = ["grouped"]
    mapping = cimgraph.map_network(cimgraph.load_netlist(raw), vit("vit2", width=64, depth=1, heads=2, mlp=128))
    assert {p.layer.kind for p in mapping.parts["attention"].layers} == {"matmul"}


def test_buffer_ports_are_validated():
    raw = raw_netlist(NEUROSIM)
    raw["chip"]["tile"]["output_buffer"]["ports"] = 3
    with pytest.raises(NetlistError, match=r"\$\.chip\.tile\.output_buffer\.ports"):
        cimgraph.load_netlist(raw, file="p.yaml")


def test_two_port_buffers_overlap_in_training_phases_too(tmp_path):
    """The activation-gradient phase moves errors through the same buffers (training_backward.py): with a write
    and a read port its buffer time is the longer of the stream's writes and reads, never their sum."""
    from test_training_ppa import MLP_V2   # the training tests' MLP chip (tests/ is on the import path)

    from cimgraph.schedule.training import evaluate_training
    from cimgraph.workload.training import TrainingSettings

    raw = yaml.safe_load(MLP_V2)
    results = {}
    for ports in (1, 2):
        raw["chip"]["tile"]["buffer"] = {"kind": "buffer.dff", "size": "2kB", "width": 128, "ports": ports}
        path = tmp_path / f"mlp_{ports}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        mapping = cimgraph.map_network(cimgraph.load_netlist(str(path)), bundled("mlp"))
        results[ports] = evaluate_training(mapping, settings=TrainingSettings(batch=4, iterations=3))
    for name in ("forward", "activation_gradient"):
        one, two = (results[p].phase(name) for p in (1, 2))
        assert two.latency_by_group["buffer"] < one.latency_by_group["buffer"]
        assert two.energy == pytest.approx(one.energy, rel=1e-12)
