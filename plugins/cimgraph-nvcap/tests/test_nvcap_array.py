"""nvcap.crossbar cell and array.nvcap: registration, charge sharing, read/write energy by hand,
activity scaling, read-out modes, bad cells, and the accuracy plugin's capacitive states."""
from __future__ import annotations

import importlib.metadata
import math
from types import SimpleNamespace

import attrs
import pytest

from cimgraph.errors import CimgraphError
from cimgraph.plugins import get_plugin_manager, load_registry
from cimgraph_nvcap import NvCapArray

REGISTRY = load_registry()
TECH = REGISTRY.technology("22nm")
CELL = REGISTRY.memory_cell("nvcap.crossbar")


def array(**kw) -> NvCapArray:
    return NvCapArray(tech=kw.pop("tech", TECH), cell=kw.pop("cell", CELL), **kw)


# -- registration ------------------------------------------------------------------------------

def test_entry_point_registers_cell_and_array_kind():
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="cimgraph")}
    assert names.get("nvcap") == "cimgraph_nvcap"
    entry = REGISTRY.components["array.nvcap"]
    assert entry.value is NvCapArray and entry.plugin == "cimgraph-nvcap"
    assert entry.version == importlib.metadata.version("cimgraph-nvcap")
    cell_entry = REGISTRY.memory_cells["nvcap.crossbar"]
    assert cell_entry.plugin == "cimgraph-nvcap"
    assert NvCapArray.role() == "array" and set(NvCapArray.actions()) == {"read", "write"}


def test_cell_carries_seed_003_capacitances():
    assert CELL.family == "nvcap" and CELL.is_capacitive and not CELL.is_resistive
    assert (CELL.c_on, CELL.c_off) == (1e-14, 1e-15)
    assert CELL.on_off_ratio == pytest.approx(10)
    assert CELL.read_pulse == pytest.approx(5e-9)
    assert "seed 003" in CELL.source


def test_without_entry_points_the_kind_is_missing():
    bare = load_registry(get_plugin_manager(entry_points=False))
    with pytest.raises(CimgraphError, match="cimgraph-nvcap"):
        bare.component("array.nvcap")


# -- charge sharing ----------------------------------------------------------------------------

def test_bit_line_voltage_is_the_charge_sharing_ratio():
    a = array(rows=64)
    wire = TECH.wire_local.c * a.height()
    total = 64 * a.mean_cell_cap(0.5) + wire
    assert a.bit_line_cap(0.5) == pytest.approx(total)
    assert a.bit_line_voltage(10, 5) == pytest.approx(CELL.read_voltage * (10e-14 + 5e-15) / total)
    assert a.bit_line_voltage(0, 0) == 0.0
    assert a.bit_line_voltage(64, 0, weight_density=1.0) < CELL.read_voltage  # the wire keeps it below
    step = a.bit_line_voltage(11, 4) - a.bit_line_voltage(10, 5)
    assert step == pytest.approx(a.signal_swing())


def test_signal_shrinks_with_more_rows():
    assert array(rows=256).signal_swing() < array(rows=64).signal_swing()


# -- read ----------------------------------------------------------------------------------------

def test_read_energy_by_hand():
    a = array(rows=128, columns=64)
    v = CELL.read_voltage
    mean = 0.3 * CELL.c_on + 0.7 * CELL.c_off
    expected = v ** 2 * 0.25 * 128 * (64 * mean + TECH.wire_local.c * a.width())
    assert a.read(0.25, 0.3).energy == pytest.approx(expected)


def test_read_energy_grows_with_activity_and_density():
    a = array()
    energies = [a.read(x, 0.5).energy for x in (0.0, 0.1, 0.3, 0.5, 0.8, 1.0)]
    assert energies[0] == 0.0
    assert all(b > c for b, c in zip(energies[1:], energies))
    densities = [a.read(0.5, d).energy for d in (0.0, 0.5, 1.0)]
    assert densities[0] < densities[1] < densities[2]


def test_read_latency_is_charge_delay_plus_line_settling():
    fast, slow = array(charge_delay="2ns"), array(charge_delay="8ns")
    assert fast.read().latency > 2e-9
    assert slow.read().latency - fast.read().latency == pytest.approx(6e-9)
    assert array(columns=512).read().latency > array(columns=64).read().latency


def test_sequential_readout_drives_one_row():
    par, seq = array(readout="parallel"), array(readout="sequential")
    assert seq.read(0.5).energy == pytest.approx(par.read(0.5).energy / 128)


def test_read_voltage_override():
    low = array(read_voltage="0.25V")
    assert low.read(0.5).energy == pytest.approx(array().read(0.5).energy / 4)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half"])
def test_bad_activity_is_a_cimgraph_error(bad):
    with pytest.raises(CimgraphError, match="input_activity"):
        array().read(bad)


# -- write, geometry, leakage --------------------------------------------------------------------

def test_write_by_hand_and_geometry():
    a = array(rows=32, columns=16)
    v = CELL.write_voltage
    wire = TECH.wire_local.c
    selected = wire * a.width() + 16 * CELL.c_on
    half = 16 * (wire * a.height() + 31 * a.mean_cell_cap())
    assert a.write().energy == pytest.approx(selected * v ** 2 + half * (v / 2) ** 2)
    assert a.write().latency > CELL.write_pulse
    assert a.width() == pytest.approx(16 * 2 * TECH.feature_size)
    assert a.height() == pytest.approx(32 * 2 * TECH.feature_size)
    assert a.area() == pytest.approx(a.width() * a.height())
    assert a.leakage() == 0.0


@pytest.mark.parametrize("node", list(REGISTRY.technologies))
def test_positive_and_finite_on_every_node(node):
    a = array(tech=REGISTRY.technology(node))
    for value in (a.area(), a.read().energy, a.read().latency, a.write().energy, a.write().latency):
        assert math.isfinite(value) and value > 0


def test_resistive_cell_is_rejected_with_the_cell_to_use():
    with pytest.raises(CimgraphError, match="nvcap.crossbar"):
        array(cell=REGISTRY.memory_cell("rram.1t1r"))
    with pytest.raises(CimgraphError, match="c_off < c_on"):  # the cell itself refuses it
        array(cell=attrs.evolve(CELL, c_on=1e-16))


# -- the accuracy plugin reads the same cell in farads -------------------------------------------

def test_accuracy_config_takes_capacitive_states():
    from cimgraph.accuracy.config import chip_fields

    chip = SimpleNamespace(cell=CELL, subarray=array(), cells_per_weight=8,
                           spec=SimpleNamespace(precision=SimpleNamespace(weight=8, input=8)))
    fields = chip_fields(chip)
    assert fields["state_unit"] == "F"
    assert (fields["state_on"], fields["state_off"]) == (CELL.c_on, CELL.c_off)
    assert fields["rows"] == 128
