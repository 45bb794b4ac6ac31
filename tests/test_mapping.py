"""Mapping: NeuroSim's floorplan figures, placement invariants, fixed counts, the ChipGraph entry point."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimgraph import load_netlist
from cimgraph.errors import MappingError
from cimgraph.mapping import Geometry, floorplan, format_mapping, map_network, matrix_view, speedup_bounds
from cimgraph.mapping import hooks
from cimgraph.mapping.floorplan import novel_kernel
from cimgraph.plugins import default_registry
from cimgraph.workload import Layer, Network, bundled

VGG8 = bundled("vgg8")


def test_vgg8_conventional_reproduces_neurosim_floorplan():
    """Seed 001 Table I: 91.45 % for VGG-8, 128x128 subarrays, one cell per weight.

    NeuroSim (V1.0 floorplan code) picks 512x512-cell tiles of 256x256-cell PEs and uses 1, 3, 3, 5, 5, 9, 32
    and 2 tiles; the per-layer utilization it sums is 27/128, 3/4, 3/4, 9/10, 9/10, 1, 1 and 4 x 10240 / 2 tiles.
    We place the same tiles but keep one copy of fc2 (one input vector per image: three more copies would idle),
    which moves 2 tiles x (0.078125 - 0.01953125) of the 60 tiles.
    """
    plan = floorplan(Geometry(128, 128, 1, method="conventional"), VGG8)
    assert plan.pe_grid == (2, 2) and plan.subarray_grid == (2, 2)
    assert [p.tiles for p in plan.placements] == [1, 3, 3, 5, 5, 9, 32, 2]
    assert [p.duplication for p in plan.placements] == [16, 4, 2, 2, 1, 1, 1, 1]
    neurosim = (27 / 128 + 3 * 0.75 + 3 * 0.75 + 5 * 0.9 + 5 * 0.9 + 9 + 32 + 2 * 0.078125) / 60
    assert neurosim == pytest.approx(0.9145, abs=5e-5)
    assert plan.utilization == pytest.approx(neurosim - 2 * (0.078125 - 0.01953125) / 60, rel=1e-12)
    assert plan.utilization == pytest.approx(0.9145, abs=0.003)


def test_vgg8_novel_close_to_table_i():
    plan = floorplan(Geometry(128, 128, 1, method="novel"), VGG8)
    assert plan.utilization == pytest.approx(0.9523, abs=0.002)   # Table I: 95.23 %
    assert plan.pe_grid == (3, 3)                                  # one PE per 3x3 kernel position
    schemes = [p.scheme for p in plan.placements]
    assert schemes == ["conventional"] + ["novel"] * 5 + ["conventional"] * 2
    assert plan.utilization > floorplan(Geometry(128, 128, 1, method="conventional"), VGG8).utilization


def test_more_cells_per_weight_fill_arrays_better():
    # Table I note: other cell precisions change the utilization slightly; wider matrices pack better
    utils = [floorplan(Geometry(128, 128, cpw), VGG8).utilization for cpw in (1, 2, 8)]
    assert utils == sorted(utils) and utils[-1] < 1


def test_speedup_bound_is_feature_map_ratio():
    # VGG-8: 32x32 maps against the 8x8 maps of conv5/conv6 -> 16; fully connected -> 1
    assert speedup_bounds(VGG8) == [16, 16, 4, 4, 1, 1, 1, 1]
    plan = floorplan(Geometry(128, 128, 1), VGG8)
    assert all(p.duplication <= b for p, b in zip(plan.placements, speedup_bounds(VGG8)))
    single = floorplan(Geometry(128, 128, 1, duplication=False), VGG8)
    assert all(p.duplication == 1 for p in single.placements)
    assert single.utilization < plan.utilization


def test_row_groups_conventional_and_novel():
    layer = Layer("c", "conv", 300, 64, kernel=3, padding=1, input_size=(8, 8))
    conventional = floorplan(Geometry(128, 128, method="conventional"), Network("n", (layer,))).placements[0]
    groups = conventional.row_groups()
    assert [len(g) for g in groups] == [128] * 21 + [12]          # 2700 rows in unfold order
    assert all(np.array_equal(g, np.arange(g[0], g[0] + len(g))) for g in groups)
    novel = floorplan(Geometry(128, 128, method="novel"), Network("n", (layer,))).placements[0]
    assert novel.scheme == "novel" and novel.row_blocks == 9 * 3
    groups = novel.row_groups()
    assert len(groups) == 27 and [len(g) for g in groups[:3]] == [128, 128, 44]
    # the first group: channels 0..127 at kernel position (0, 0); the fourth: the same channels at (0, 1)
    assert np.array_equal(groups[0], np.arange(128) * 9)
    assert np.array_equal(groups[3], np.arange(128) * 9 + 1)
    assert all(np.all(np.diff(g) > 0) for g in groups)


def test_fixed_counts_are_respected():
    plan = floorplan(Geometry(128, 128, 1, pes=4, subarrays=16), VGG8)
    assert plan.pe_grid == (2, 2) and plan.subarray_grid == (4, 4)
    plan = floorplan(Geometry(128, 128, 1, subarrays=8), VGG8)
    assert plan.subarray_grid == (4, 2)
    plan = floorplan(Geometry(128, 128, 1, method="novel", subarrays=4), VGG8)
    assert plan.subarray_grid == (2, 2) and plan.pe_grid == (3, 3)
    with pytest.raises(MappingError, match="needs 9 PEs per tile"):
        floorplan(Geometry(128, 128, 1, method="novel", pes=4), VGG8)


def test_network_that_does_not_fit_a_fixed_chip():
    with pytest.raises(MappingError) as info:
        floorplan(Geometry(128, 128, 1, tiles=16, pes=4, subarrays=4), VGG8)
    message = str(info.value)
    assert "layer conv5 needs 17 tiles counting the layers before it (5 of its own), chip has 16" in message
    # a fixed tile count that can hold the network picks a tile size that fits
    plan = floorplan(Geometry(128, 128, 1, tiles=16), VGG8)
    assert plan.tiles_used <= 16


def test_depthwise_blocks_pack_along_the_subarray_diagonal():
    # 3x3 depthwise, 128 channels: 128 group blocks of 9 rows x 1 column; 14 fit a 128x128 subarray (126 rows)
    layer = Layer("dw", "conv", 128, 128, kernel=3, padding=1, groups=128, input_size=(16, 16))
    view = matrix_view(layer, "conventional", 128, 128)
    assert (view.scheme, view.rows, view.columns, view.packing) == ("grouped", 9, 128, 14)
    assert (view.row_blocks, view.column_blocks) == (1, 10)                # ceil(128 / 14) subarrays per copy
    plan = floorplan(Geometry(128, 128, 1, duplication=False), Network("n", (layer,)))
    dw = plan.placements[0]
    assert dw.scheme == "grouped" and dw.subarrays_per_copy == 10 and dw.cells == 1152
    groups, columns = dw.row_groups(), dw.column_groups()
    assert [len(g) for g in groups] == [126] * 9 + [18]
    assert np.array_equal(groups[1], np.arange(126, 252))                 # channels 14..27, all 9 positions each
    assert np.array_equal(columns[1], np.arange(14, 28)) and len(columns[-1]) == 2
    assert dw.input_rows == 128 * 9 and dw.rows_per_subarray == 126
    # weight cells over the cells of the subarrays holding them: 1152 / (10 x 16384) = 0.70 %, dense 100 %
    assert dw.cells / (dw.subarrays_per_copy * 128 * 128) == pytest.approx(1152 / 163840)
    dense = floorplan(Geometry(128, 128, 1, duplication=False),
                      Network("n", (Layer("c", "conv", 128, 128, kernel=3, padding=1, input_size=(16, 16)),)))
    assert dense.placements[0].cells / (dense.placements[0].subarrays_per_copy * 128 * 128) == 1
    assert dw.utilization < dense.placements[0].utilization / 50


def test_grouped_block_larger_than_a_subarray_is_cut_on_its_own():
    # 4 groups of 64 -> 64 channels, 3x3: blocks of 576 rows x 64 columns -> 5 row blocks each, no packing
    layer = Layer("g", "conv", 256, 256, kernel=3, padding=1, groups=4, input_size=(8, 8))
    view = matrix_view(layer, "conventional", 128, 128)
    assert (view.packing, view.row_blocks, view.column_blocks) == (0, 5, 4)
    placement = floorplan(Geometry(128, 128, 1, method="novel"), Network("n", (layer,))).placements[0]
    assert placement.scheme == "grouped"                                   # no per-position view: grouped
    groups = placement.row_groups()
    assert len(groups) == 20 and [len(g) for g in groups[:5]] == [128, 128, 128, 128, 64]
    assert np.array_equal(groups[5], np.arange(576, 704))                  # group 1 starts at channel 64
    assert np.array_equal(placement.column_groups()[5], np.arange(64, 128))
    with pytest.raises(MappingError, match="no novel"):
        matrix_view(layer, "novel", 128, 128)


def test_grouped_layers_do_not_set_the_novel_kernel():
    net = Network("n", (Layer("c1", "conv", 3, 16, kernel=5, padding=2, input_size=(8, 8)),
                        Layer("dw1", "conv", 16, 16, kernel=3, padding=1, groups=16, input_size=(8, 8)),
                        Layer("dw2", "conv", 16, 16, kernel=3, padding=1, groups=16, input_size=(8, 8))))
    assert novel_kernel(net) == 25


@st.composite
def networks(draw):
    layers = []
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "grouped", "fc"]))
        if kind != "fc":
            size = draw(st.sampled_from([1, 4, 8, 16]))
            kernel = draw(st.sampled_from([k for k in (1, 3, 5) if k <= size + 2 * ((k - 1) // 2)]))
            if kind == "grouped":   # depthwise to a few wide groups: blocks that pack and blocks that are cut
                groups = draw(st.integers(2, 300))
                channels = (groups * draw(st.integers(1, 40)), groups * draw(st.integers(1, 200)))
            else:
                groups, channels = 1, (draw(st.integers(1, 600)), draw(st.integers(1, 600)))
            layers.append(Layer(f"c{index}", "conv", *channels, kernel=kernel, padding=(kernel - 1) // 2,
                                groups=groups, input_size=(size, size)))
        else:
            layers.append(Layer(f"f{index}", "fc", draw(st.integers(1, 3000)), draw(st.integers(1, 1200))))
    return Network("net", tuple(layers))


@st.composite
def geometries(draw):
    return Geometry(rows=draw(st.sampled_from([32, 64, 128, 256])), columns=draw(st.sampled_from([32, 64, 128])),
                    cells_per_weight=draw(st.sampled_from([1, 2, 4, 8])),
                    pes=draw(st.sampled_from([None, None, 4, 8])), subarrays=draw(st.sampled_from([None, None, 4, 16])),
                    method=draw(st.sampled_from(["conventional", "novel"])), duplication=draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(networks(), geometries())
def test_placement_invariants(network, geometry):
    try:
        plan = floorplan(geometry, network)
    except MappingError as exc:   # only a novel mapping with a fixed PE count that is not K*K may refuse
        assert geometry.method == "novel" and geometry.pes is not None and "PEs per tile" in str(exc)
        return
    pes_per_tile = plan.pe_grid[0] * plan.pe_grid[1]
    subarrays_per_pe = plan.subarray_grid[0] * plan.subarray_grid[1]
    if geometry.pes is not None and plan.method == "conventional":
        assert pes_per_tile == geometry.pes
    if geometry.subarrays is not None:
        assert subarrays_per_pe == geometry.subarrays
    tile_cells = pes_per_tile * subarrays_per_pe * geometry.rows * geometry.columns
    bounds = speedup_bounds(network)
    for placement, bound in zip(plan.placements, bounds):
        layer = placement.layer
        # every weight placed exactly once per copy: row groups partition the rows (all input channels' unfold
        # rows), each fits a subarray; each row group feeds exactly the output channels of its rows' groups
        groups, columns = placement.row_groups(), placement.column_groups()
        rows = np.sort(np.concatenate(groups))
        assert np.array_equal(rows, np.arange(layer.in_channels * layer.kernel ** 2))
        assert placement.input_rows == len(rows)
        assert max(len(g) for g in groups) <= geometry.rows
        per_row, per_column = layer.weight_rows, layer.out_channels // layer.groups
        for group, outputs in zip(groups, columns, strict=True):
            assert np.array_equal(np.unique(group // per_row), np.unique(outputs // per_column))
            assert len(outputs) == len(np.unique(group // per_row)) * per_column
        # subarrays of one copy: each row group's columns cut into subarray widths; packed groups fit one
        widths = [math.ceil(len(outputs) * geometry.cells_per_weight / geometry.columns) for outputs in columns]
        assert sum(widths) == placement.subarrays_per_copy
        if layer.groups == 1:
            assert len(groups) == placement.row_blocks
            assert placement.column_blocks == math.ceil(placement.used_columns / geometry.columns)
        elif placement.packing:
            assert widths == [1] * len(groups) and placement.row_blocks == 1
        assert placement.used_rows == layer.weight_rows
        assert placement.used_columns == layer.out_channels * geometry.cells_per_weight
        assert placement.cells == placement.duplication * layer.weights * geometry.cells_per_weight
        # no unit holds more than it has; all copies fit in the layer's own tiles
        assert 1 <= placement.subarrays <= subarrays_per_pe and 1 <= placement.pes <= pes_per_tile
        assert placement.duplication * placement.subarrays_per_copy <= placement.tiles * pes_per_tile * subarrays_per_pe
        assert 1 <= placement.duplication <= (bound if geometry.duplication else 1)
        assert placement.input_vectors * placement.duplication >= layer.input_vectors
        assert 0 < placement.utilization <= 1
        assert placement.utilization == pytest.approx(placement.cells / (placement.tiles * tile_cells))
    assert plan.tiles_used == sum(p.tiles for p in plan.placements)
    assert 0 < plan.utilization <= 1


MINI_NETLIST = {
    "name": "mini-rram", "technology": "22nm", "cell": {"name": "rram.1t1r", "bits_per_cell": 8},
    "precision": {"weight": 8, "input": 8}, "clock": "1GHz",
    "mapping": {"method": "novel", "duplication": True},
    "chip": {"tiles": "auto", "tile": {"pes": "auto", "pe": {"subarrays": "auto", "subarray": {
        "kind": "array.rram", "rows": 128, "columns": 128, "readout": "parallel",
        "adc": {"kind": "adc.flash", "bits": 5, "share": 8}}}}},
}


def test_map_network_resolves_chip_counts():
    chip = load_netlist(MINI_NETLIST)
    assert chip.counts == {"tiles": None, "pes": None, "subarrays": None}
    mapping = map_network(chip, VGG8)                        # netlist default: novel
    assert mapping.method == "novel" and mapping.chip.counts == {
        "tiles": mapping.tiles_used, "pes": 9, "subarrays": mapping.subarray_grid[0] * mapping.subarray_grid[1]}
    conventional = map_network(chip, VGG8, "conventional")
    assert conventional.chip.counts == {"tiles": 60, "pes": 4, "subarrays": 4}
    assert conventional.layer("fc1").tiles == 32
    text = format_mapping(conventional)
    assert "fc1" in text and "8192x1024" in text and "91.25%" in text


def test_map_network_keeps_fixed_counts_and_refuses_a_small_chip():
    fixed = dict(MINI_NETLIST, chip={**MINI_NETLIST["chip"], "tiles": 100})
    mapping = map_network(load_netlist(fixed), VGG8, "conventional")
    assert mapping.chip.counts["tiles"] == 100 and mapping.tiles_used == 60
    small = dict(MINI_NETLIST, chip={**MINI_NETLIST["chip"], "tiles": 7})   # 8 layers, one per tile at least
    with pytest.raises(MappingError, match="layer fc2 needs 8 tiles .* chip has 7"):
        map_network(load_netlist(small), VGG8, "conventional")


def test_strategies_are_registered_as_a_plugin():
    registry = default_registry()
    assert registry.mapping_strategy("conventional") is hooks.conventional
    assert registry.mapping_strategy("novel") is hooks.novel
    assert registry.mapping_strategies["novel"].plugin == "cimgraph.mapping.hooks"


def test_novel_mapping_of_a_layer_smaller_than_one_subarray_per_position():
    layer = Layer("c", "conv", 16, 32, kernel=3, padding=1, input_size=(8, 8))   # 144 rows, 16 per position
    plan = floorplan(Geometry(128, 128, method="novel"), Network("n", (layer,)))
    assert plan.placements[0].scheme == "novel" and plan.subarray_grid == (2, 1)
    assert plan.tiles_used == 1 and plan.placements[0].duplication == 1   # a single layer: speed-up bound 1
