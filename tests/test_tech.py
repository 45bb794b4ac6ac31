"""Technology nodes and memory cells: registration, published values, and physical laws across nodes."""
from __future__ import annotations

import math

import pytest

from cimgraph.errors import ComponentNotFound
from cimgraph.plugins import default_registry
from cimgraph.tech import MemoryCell, Technology
from cimgraph.tech.nodes import (FIN_GEOMETRY, NODES, itrs_resistivity, make_technology, wire_capacitance,
                                 wire_resistance)

LARGEST_FIRST = [f"{n}nm" for n in NODES]  # 130nm ... 7nm
ROADMAPS = [LARGEST_FIRST, [f"{n}.hp" for n in LARGEST_FIRST]]
CELLS = ["sram.6t", "sram.8t", "rram.1t1r", "rram.crossbar", "fefet", "flash.nor", "ideal",
         "neurotorch.flash", "neurotorch.fefet", "neurotorch.reram", "neurotorch.reram2", "neurotorch.ideal"]


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def tech(name: str) -> Technology:
    return default_registry().technology(name)


# -- registration ---------------------------------------------------------------------------

def test_every_node_and_roadmap_is_registered_by_the_builtin_plugin(registry):
    assert not registry.failures
    for names in ROADMAPS:
        for name in names:
            entry = registry.technologies[name]
            assert isinstance(entry.value, Technology) and entry.value.name == name
            assert entry.plugin == "cimgraph.tech.nodes"
            assert entry.value.source.strip()


def test_every_cell_is_registered_with_a_source(registry):
    for name in CELLS:
        cell = registry.memory_cell(name)
        assert isinstance(cell, MemoryCell) and cell.name == name
        assert registry.memory_cells[name].plugin == "cimgraph.tech.cell_library"
        assert cell.source.strip()


def test_unknown_node_suggests_the_close_name(registry):
    with pytest.raises(ComponentNotFound, match="22nm"):
        registry.technology("22 nm")
    with pytest.raises(ValueError, match="roadmap"):
        make_technology(28)


# -- published values -------------------------------------------------------------------------

@pytest.mark.parametrize("node, vdd", [(130, 1.3), (90, 1.2), (65, 1.1), (45, 1.0), (32, 0.9), (22, 0.85),
                                       (14, 0.8), (10, 0.75), (7, 0.7)])
def test_supply_voltages_are_the_ptm_values(node, vdd):
    assert tech(f"{node}nm").vdd == vdd
    assert tech(f"{node}nm.hp").vdd == vdd


def test_22nm_values_from_neurosim_technology_cpp():
    lstp, hp = tech("22nm"), tech("22nm.hp")
    assert lstp.feature_size == pytest.approx(22e-9)
    assert lstp.vth == pytest.approx(0.419915) and hp.vth == pytest.approx(0.2089006)
    assert lstp.i_on_n == pytest.approx(791.9) and lstp.i_on_p == pytest.approx(600.2)  # uA/um == A/m
    assert hp.i_on_n == pytest.approx(1500.0) and hp.i_off_n == pytest.approx(0.1002)
    # c_gate = C_ideal * 1.2 + C_fringe (overlap 20 %)
    assert hp.c_gate == pytest.approx(3.287e-10 * 1.2 + 4.532e-10)
    # r_eff = 1.54 * Vdd / I_on (CACTI multiplier, HP)
    assert hp.r_eff_n == pytest.approx(1.54 * 0.85 / 1500.0)
    assert lstp.temperature == 300.0


def test_neurotorch_45nm_hp_currents_match_the_seed():
    # seed 000: NONCurr = 45e-9 * 1.27e3, PONCurr = 45e-9 * 1.08e3 (A, minimum-width device)
    hp = tech("45nm.hp")
    assert hp.i_on_n * 45e-9 == pytest.approx(45e-9 * 1.27e3)
    assert hp.i_on_p * 45e-9 == pytest.approx(45e-9 * 1.08e3)


def test_junction_capacitance_hand_computed_at_22nm():
    bias = 1 + 0.85 / 0.9
    expected = 1e-3 / bias ** 0.5 * 2.8 * 22e-9 + (2.5e-10 + 0.5e-10) / bias ** 0.33
    assert tech("22nm").c_junction == pytest.approx(expected)


def test_finfet_junction_is_scaled_to_effective_width():
    fin = FIN_GEOMETRY[7]
    assert fin.effective_width == pytest.approx(43e-9)
    bias = 1 + 0.7 / 0.9
    planar = 1e-3 / bias ** 0.5 * 2.8 * 7e-9 + 3e-10 / bias ** 0.33
    assert tech("7nm").c_junction == pytest.approx(planar * 22 / 43)


def test_wire_models_hand_computed():
    # NeuroSim V1.4, 22 nm: 40 nm wide, AR 1.9, rho 2.97e-8, barrier 2.5 nm
    t = 1.9 * 40e-9
    rho = 2.97e-8 / (1 - (2 * t + 40e-9) * 2.5e-9 / (t * 40e-9))
    assert tech("22nm").wire_local.r == pytest.approx(rho / (40e-9 * t))
    assert tech("22nm").wire_local.pitch == pytest.approx(80e-9)
    assert itrs_resistivity(28e-9) == (2.0, 3.95e-8)
    assert wire_resistance(100e-9, 2.0, 2e-8, 0.0) == pytest.approx(2e-8 / (100e-9 * 200e-9))
    eps0 = 8.854187817e-12
    c = wire_capacitance(50e-9, 100e-9, 50e-9, 300e-9, 2.0)
    assert c == pytest.approx(2 * eps0 * 3.9 * 50 / 300 + 2 * eps0 * 1.5 * 2.0 * 2 + 0.115e-9)


# -- laws across nodes --------------------------------------------------------------------------

@pytest.mark.parametrize("names", ROADMAPS)
def test_vdd_never_rises_and_gate_cap_per_feature_falls_as_nodes_shrink(names):
    techs = [tech(n) for n in names]
    for big, small in zip(techs, techs[1:]):
        assert small.vdd <= big.vdd
        assert small.feature_size < big.feature_size
        assert small.c_gate * small.feature_size < big.c_gate * big.feature_size


@pytest.mark.parametrize("name", LARGEST_FIRST + ROADMAPS[1])
def test_device_sanity(name):
    t = tech(name)
    assert 0.5e-18 < t.c_gate * t.feature_size < 1e-15  # a minimum-width gate: 0.5 aF .. 1 fF
    assert 0.5e-9 < t.c_gate < 5e-9  # 0.5 .. 5 fF/um
    assert t.c_junction < t.c_gate
    assert t.i_on_n > t.i_on_p
    assert t.i_off_n < 1e-3 * t.i_on_n and t.i_off_p < 1e-3 * t.i_on_p
    assert t.r_eff_p > t.r_eff_n
    assert 0 < t.vth < t.vdd
    # effective resistance is Vdd/I_on times a multiplier of order 1.5
    assert 1.4 < t.r_eff_n * t.i_on_n / t.vdd < 1.8


def test_lstp_leaks_far_less_than_hp_and_is_slower():
    for name in LARGEST_FIRST:
        lstp, hp = tech(name), tech(f"{name}.hp")
        assert lstp.i_off_n < hp.i_off_n / 100
        assert lstp.i_on_n < hp.i_on_n
        assert lstp.vth > hp.vth


def test_wire_resistance_rises_as_nodes_shrink():
    techs = [tech(n) for n in LARGEST_FIRST]
    for big, small in zip(techs, techs[1:]):
        assert small.wire_global.r > big.wire_global.r
        assert small.wire_local.pitch < big.wire_local.pitch
        # 90 and 65 nm use nearly the same M1 width (110 / 105 nm) and 65 nm a thinner barrier,
        # so their local R is on a plateau; every other step rises.
        assert small.wire_local.r > 0.95 * big.wire_local.r
        if big.name != "90nm":
            assert small.wire_local.r > big.wire_local.r
    assert techs[-1].wire_local.r > 100 * techs[0].wire_local.r


@pytest.mark.parametrize("name", LARGEST_FIRST)
def test_local_wires_are_narrower_and_more_resistive_than_global(name):
    t = tech(name)
    assert t.wire_local.r > t.wire_global.r
    assert t.wire_local.pitch < t.wire_global.pitch
    assert 0.1e-9 < t.wire_local.c < 0.5e-9 and 0.1e-9 < t.wire_global.c < 0.5e-9  # 0.1 .. 0.5 fF/um
    # RC per square micrometre of wire grows toward small nodes but stays physical (< 1 ps/um^2 at 7 nm)
    assert t.wire_local.r * t.wire_local.c * 1e-12 < 1e-12


# -- memory cells -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, ratio", [
    ("rram.1t1r", 17), ("rram.crossbar", 17), ("fefet", 45), ("flash.nor", 10), ("ideal", 1e4),
    ("neurotorch.flash", 10), ("neurotorch.fefet", 45), ("neurotorch.reram", 12.5),
    ("neurotorch.reram2", 10), ("neurotorch.ideal", 1e4),
])
def test_on_off_ratios_from_the_seeds(name, ratio):
    assert default_registry().memory_cell(name).on_off_ratio == pytest.approx(ratio)


@pytest.mark.parametrize("name, on_current, read_voltage", [
    ("neurotorch.flash", 1e-8, 1.0), ("neurotorch.fefet", 8.9e-8, 0.05), ("neurotorch.reram", 40e-9, 2.0),
    ("neurotorch.reram2", 40e-9, 0.8), ("neurotorch.ideal", 10e-9, 0.2),
])
def test_neurotorch_on_current_is_read_voltage_times_g_on(name, on_current, read_voltage):
    cell = default_registry().memory_cell(name)
    assert cell.read_voltage == read_voltage
    assert cell.read_voltage * cell.g_on == pytest.approx(on_current)


def test_neurotorch_pulses_levels_and_nonlinearity():
    r = default_registry()
    flash = r.memory_cell("neurotorch.flash")
    assert (flash.levels_ltp, flash.levels_ltd) == (100, 200)  # 100 ms / 1 ms, 200 x 100 us
    assert (flash.nonlinearity_ltp, flash.nonlinearity_ltd, flash.write_voltage) == (0.0, 4.7, 9.0)
    fefet = r.memory_cell("neurotorch.fefet")
    assert (fefet.levels_ltp, fefet.write_pulse, fefet.nonlinearity_ltp) == (32, 75e-9, -1.75)
    reram = r.memory_cell("neurotorch.reram")
    assert (reram.levels_ltp, reram.write_pulse, reram.write_current) == (100, 300e-6, 64e-9)
    assert (reram.nonlinearity_ltp, reram.nonlinearity_ltd) == (2.4, 4.9)
    reram2 = r.memory_cell("neurotorch.reram2")
    assert (reram2.height_f, reram2.width_f, reram2.levels_ltd, reram2.write_current) == (2, 4, 128, 16e-6)
    # Vari is the non-linearity's d2d spread (label steps), not a conductance spread for inference
    ideal = r.memory_cell("neurotorch.ideal")
    assert (ideal.nonlinearity_d2d, ideal.sigma_d2d) == (0.6, 0.0) and r.memory_cell("ideal").nonlinearity_d2d == 0.0


def test_neurosim_defaults_from_v14_param_cpp():
    # NeuroSim V1.4 Param.cpp (the issue 18 reference run): 1T1R 4F x 12F, 100 kOhm / 1.7 MOhm,
    # V_read 0.55 V at 22 nm, 10 ns read pulse, V_write 2 V, R_access = 0.25 R_on
    r = default_registry()
    cell = r.memory_cell("rram.1t1r")
    assert (cell.r_on, cell.r_off, cell.height_f, cell.width_f) == (100e3, 1.7e6, 4, 12)
    assert (cell.read_voltage, cell.read_pulse, cell.write_voltage, cell.write_pulse) == (0.55, 10e-9, 2.0, 60e-9)
    assert (cell.levels_ltp, cell.levels_ltd) == (128, 128)
    # access transistor sized to 25 kOhm at NeuroSim V1.4's default 22 nm LSTP node, and fits the cell
    t22 = tech("22nm")
    assert t22.r_eff_n / (cell.access_width * t22.feature_size) == pytest.approx(25e3)
    assert 1 < cell.access_width < cell.width_f
    assert r.memory_cell("rram.crossbar").area_f2 == 4 and r.memory_cell("rram.crossbar").access_width is None
    fefet = r.memory_cell("fefet")
    assert (fefet.levels_ltp, fefet.nonlinearity_ltp, fefet.nonlinearity_ltd, fefet.sigma_c2c) == (32, 1.75, 1.46, 0.003)
    sram = r.memory_cell("sram.6t")
    assert (sram.height_f, sram.width_f, sram.area_f2, sram.r_on) == (8, 20, 160, None)
    # V2 manual Param.cpp inverter widths, on every SRAM cell and on no other
    assert (sram.access_width, sram.pulldown_width, sram.pullup_width) == (1.31, 2.08, 1.23)
    assert (r.memory_cell("sram.8t").pulldown_width, r.memory_cell("sram.8t").pullup_width) == (2.08, 1.23)
    assert (cell.pulldown_width, cell.pullup_width) == (None, None)


@pytest.mark.parametrize("name", CELLS)
def test_cell_geometry_is_consistent(name):
    cell = default_registry().memory_cell(name)
    assert cell.area_f2 == pytest.approx(cell.width_f * cell.height_f)
    if cell.family != "sram":
        assert cell.is_resistive and math.isfinite(cell.on_off_ratio) and cell.on_off_ratio > 1
        assert cell.g_on > cell.g_off
    if cell.access == "crossbar":
        assert cell.area_f2 <= 16
    assert cell.access_width is None or cell.access_width <= cell.width_f


def test_cell_areas_rank_as_published():
    r = default_registry()
    area = {n: r.memory_cell(n).area_f2 for n in CELLS}
    assert area["rram.crossbar"] == 4 < area["rram.1t1r"] < area["sram.6t"] < area["sram.8t"]
    assert 140 <= area["sram.6t"] <= 170 and 190 <= area["sram.8t"] <= 230
