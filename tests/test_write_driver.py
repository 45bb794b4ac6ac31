"""driver.write (eNVM write drivers with level shifters): hand-computed pulse energy, layout and
leakage from the circuit toolkit, the level-shift condition, and its place in a netlist."""
from __future__ import annotations

import attrs
import pytest

from cimgraph import evaluate, load_netlist, map_network
from cimgraph.components import circuit
from cimgraph.components.digital import bank_area
from cimgraph.components.switches import line_rc
from cimgraph.components.write_driver import (INPUT_N, INPUT_P, LATCH_N, LATCH_P, OUTPUT_N, OUTPUT_P,
                                              WriteDriver)
from cimgraph.plugins import default_registry
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network

REGISTRY = default_registry()
TECH = REGISTRY.technology("22nm")
CELL = attrs.evolve(REGISTRY.memory_cell("rram.1t1r"), write_voltage=2.0)


def driver(**kw) -> WriteDriver:
    return WriteDriver(TECH, CELL, rows=128, columns=128, **kw)


def test_level_shift_only_above_vdd():
    assert driver().shifts and set(driver().stages()) == {"input", "latch", "output"}
    sram = WriteDriver(TECH, REGISTRY.memory_cell("sram.6t"), axis="columns")   # written at Vdd
    assert sram.write_voltage == TECH.vdd and not sram.shifts
    low = driver(voltage=TECH.vdd)
    assert not low.shifts and set(low.stages()) == {"output"}
    assert low.area() < driver().area()


W_N = circuit.min_width(TECH)
W_P = W_N * TECH.r_eff_p / TECH.r_eff_n   # the PMOS of equal drive


def test_pulse_energy_by_hand():
    vdd, vw = TECH.vdd, 2.0
    c_out = circuit.drain_cap(TECH, OUTPUT_N * W_N + OUTPUT_P * W_P)
    c_inb = circuit.drain_cap(TECH, INPUT_N * W_N + INPUT_P * W_P) + circuit.gate_cap(TECH, LATCH_N * W_N)
    c_node = (circuit.drain_cap(TECH, LATCH_N * W_N + LATCH_P * W_P) + circuit.gate_cap(TECH, LATCH_P * W_P)
              + circuit.gate_cap(TECH, OUTPUT_N * W_N + OUTPUT_P * W_P))
    per_line = c_out * vw**2 + c_inb * vdd**2 + 2 * c_node * vw**2
    assert driver().write().energy == pytest.approx(per_line, rel=1e-12)          # one selected row
    assert driver(axis="columns").write().energy == pytest.approx(128 * per_line, rel=1e-12)  # all columns
    # without a level shift only the output inverter switches, at Vdd
    assert driver(voltage=0.5).write().energy == pytest.approx(c_out * vdd**2, rel=1e-12)


def test_write_energy_grows_with_voltage_and_latency_includes_line():
    assert driver(voltage=2.5).write().energy > driver(voltage=2.0).write().energy
    wl = driver(gate_line=True).write().latency
    bl = driver(gate_line=False).write().latency
    _, c_wl = line_rc(TECH, CELL, 128, 128 * CELL.width_f * TECH.feature_size, gate_line=True)
    _, c_bl = line_rc(TECH, CELL, 128, 128 * CELL.width_f * TECH.feature_size, gate_line=False)
    assert (wl > bl) == (c_wl > c_bl)


def test_layout_pitch_matched_with_io_gate_pitch():
    d = driver()
    f = TECH.feature_size
    ratio = (270e-9 + 3 * f) / (4 * f)
    assert d._pitch_ratio() == pytest.approx(ratio)

    def width(n, p, io):
        g = circuit.gate_area(TECH, "inv", 1, n * W_N, p * W_P)
        return g.area / (28 * f) * (ratio if io else 1.0)

    line = width(INPUT_N, INPUT_P, False) + 2 * width(LATCH_N, LATCH_P, True) + width(OUTPUT_N, OUTPUT_P, True)
    height = 128 * CELL.height_f * f
    assert d.area() == pytest.approx(bank_area(TECH, 128, line, height), rel=1e-12)
    # a longer IO channel costs area
    assert driver(io_length=500e-9).area() > d.area()


def test_leakage_gated_and_powered():
    core = circuit.leakage_power(TECH, INPUT_N * W_N, INPUT_P * W_P)
    assert driver().leakage() == pytest.approx(128 * core, rel=1e-12)
    powered = driver(supply_gated=False).leakage()
    io = (2 * circuit.leakage_power(TECH, LATCH_N * W_N, LATCH_P * W_P)
          + circuit.leakage_power(TECH, OUTPUT_N * W_N, OUTPUT_P * W_P)) * 2.0 / TECH.vdd
    assert powered == pytest.approx(128 * (core + io), rel=1e-12)


def test_in_netlist_area_and_leakage_but_no_read_energy():
    raw = tiny_netlist()
    sub = raw["chip"]["tile"]["pe"]["subarray"]
    sub["wl_write"] = {"kind": "driver.write", "axis": "rows", "gate_line": True}
    sub["sl_write"] = {"kind": "driver.write", "axis": "columns"}
    chip = load_netlist(raw)
    base = load_netlist(tiny_netlist())
    assert chip.area() > base.area()
    net = Network("one", (Layer("c1", "conv", in_channels=16, out_channels=16, kernel=3, input_size=(8, 8)),))
    with_drivers, without = evaluate(map_network(chip, net)), evaluate(map_network(base, net))
    paths = {c.path for c in with_drivers.components}
    assert "chip/tile/pe/subarray/sl_write" in paths
    # no read action: the drivers add no energy to inference (the larger subarray moves only the wires)
    assert not any(p.endswith("_write") for layer in with_drivers.layers for p in layer.energy_by_component)
    for group in ("array", "adc", "accumulation"):
        assert with_drivers.energy_by_group[group] == pytest.approx(without.energy_by_group[group], rel=1e-9)
    assert with_drivers.leakage_power > without.leakage_power
