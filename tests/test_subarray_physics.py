"""Subarray-level physics of issue 18 part A: IR-drop sizing on the expected column, which drivers a
read drives, the shift-adder pipelined behind the conversions, and the placed subarray box.
Hand-computed from the circuit toolkit and the model calls, so they hold when defaults move."""
from __future__ import annotations

import numpy as np
import pytest

from cimgraph import evaluate, load_netlist, map_network
from cimgraph.components import circuit
from cimgraph.components.decoders import MuxDecoder
from cimgraph.components.switches import ColumnMux, SLSwitchMatrix, tg_block, tg_resistance
from cimgraph.plugins import default_registry
from cimgraph.schedule import Result
from cimgraph.schedule.counts import action_counts, conversion_step
from cimgraph.schedule.placed import placed_area, placement_side, subarray_box
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network

REGISTRY = default_registry()
TECH = REGISTRY.technology("22nm")
CELL = REGISTRY.memory_cell("rram.1t1r")
NET = Network("one", (Layer("c1", "conv", in_channels=16, out_channels=32, kernel=3, input_size=(8, 8)),))
SUB = "chip/tile/pe/subarray"


def chip_with(**subarray):
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"].update(subarray)
    return load_netlist(raw)


# -- IR-drop sizing on the expected column -------------------------------------------------------

def test_mux_tg_is_a_quarter_of_the_expected_column_resistance():
    mux = ColumnMux(TECH, CELL, rows=128, columns=128, share=8)
    r_access = circuit.on_resistance(TECH, CELL.access_width * TECH.feature_size)
    g_mean = (1 / (CELL.r_on + r_access) + 1 / (CELL.r_off + r_access)) / 2
    r_column = 1 / (128 * g_mean)
    assert tg_resistance(TECH, mux.tg_width()) == pytest.approx(0.25 * r_column, rel=1e-9)
    # issue 18: NeuroSim V1.4 sizes its mux for the average column resistance, 0.25 x 1821 = 455 Ohm
    assert 0.25 * r_column == pytest.approx(455, rel=0.01)


def test_expected_sizing_is_narrower_cheaper_and_leaks_less_than_worst_case():
    expected = ColumnMux(TECH, CELL, rows=128, columns=128, share=8)
    worst = ColumnMux(TECH, CELL, rows=128, columns=128, share=8, sizing="worst")
    assert expected.tg_width() < worst.tg_width()
    assert expected.area() < worst.area() and expected.leakage() < worst.leakage()
    assert expected.select().energy < worst.select().energy
    dec_e = MuxDecoder(TECH, CELL, rows=128, columns=128, share=8)
    dec_w = MuxDecoder(TECH, CELL, rows=128, columns=128, share=8, sizing="worst")
    assert dec_e.decode().energy < dec_w.decode().energy
    assert dec_e._core().c_end == pytest.approx(16 * tg_block(TECH, expected.tg_width())[1])


def test_mux_select_and_leakage_by_hand():
    mux = ColumnMux(TECH, CELL, rows=128, columns=128, share=8)
    w_n = mux.tg_width()
    w_p = w_n * TECH.r_eff_p / TECH.r_eff_n
    v = CELL.read_voltage
    # per mux the selected TG's two diffusions charge to V_read (select gates are the decoder's load)
    c_diff = circuit.drain_cap(TECH, w_n + w_p)
    assert mux.select().energy == pytest.approx(16 * 2 * c_diff * v**2, rel=1e-12)
    # the 7 idle TGs of each mux hold V_read across them
    assert mux.leakage() == pytest.approx(16 * 7 * v * (TECH.i_off_n * w_n + TECH.i_off_p * w_p), rel=1e-12)


# -- which drivers a read drives -----------------------------------------------------------------

def test_sl_switch_matrix_serves_writes_not_reads():
    assert not SLSwitchMatrix(TECH, CELL).read_input
    chip = chip_with(sl_switch={"kind": "switch.sl"})
    counted = {ac.path for ac in action_counts(map_network(chip, NET))}
    assert f"{SUB}/sl_switch" not in counted and f"{SUB}/wl_switch" in counted
    driven = chip_with(sl_switch={"kind": "switch.sl", "read_input": True})
    assert f"{SUB}/sl_switch" in {ac.path for ac in action_counts(map_network(driven, NET))}
    # the undriven matrix still has area and leakage
    result = evaluate(map_network(chip, NET))
    comp = next(c for c in result.components if c.path == f"{SUB}/sl_switch")
    assert comp.area > 0 and comp.leakage > 0
    assert all(f"{SUB}/sl_switch" not in layer.energy_by_component for layer in result.layers)


def test_a_wl_decoder_the_switch_matrix_replaces_costs_no_read():
    base = evaluate(map_network(chip_with(), NET))
    idle = evaluate(map_network(chip_with(wl_decoder={"kind": "decoder.wl", "read_input": False}), NET))
    assert base.layers[0].energy_by_component[f"{SUB}/wl_decoder"] > 0
    assert f"{SUB}/wl_decoder" not in idle.layers[0].energy_by_component
    assert idle.dynamic_energy < base.dynamic_energy


# -- shift-add pipelined behind the conversions --------------------------------------------------

def test_shift_add_books_only_its_excess_over_the_conversion_step():
    chip = chip_with()
    mapping = map_network(chip, NET)
    m = {name: chip.model(f"{SUB}/{name}") for name in ("mux", "mux_decoder", "adc", "shift_add")}
    step = m["mux"].select().latency + m["mux_decoder"].decode().latency + m["adc"].convert().latency
    assert conversion_step(chip) == pytest.approx(step, rel=1e-12)
    t_sa = m["shift_add"].accumulate().latency
    ac = next(a for a in action_counts(mapping) if a.path == f"{SUB}/shift_add")
    assert ac.pipelined
    result = evaluate(mapping)
    booked = result.layers[0].latency_by_group["accumulation"]
    adders = sum(a.count[0] / a.active[0] * chip.model(a.path).add().latency
                 for a in action_counts(mapping) if a.action == "add")
    assert booked - adders == pytest.approx(ac.count[0] / ac.active[0] * max(t_sa - step, 0.0), rel=1e-9)
    # per conversion the read-out and the shift-adder take max(step, t_sa), not their sum
    per_conversion = (booked - adders) / (ac.count[0] / ac.active[0]) + step
    assert per_conversion == pytest.approx(max(step, t_sa), rel=1e-9)
    assert per_conversion < step + t_sa


def test_a_slow_adc_hides_the_shift_add_entirely():
    # uncalibrated (Pelgrom-sized) flash comparators convert in ~8 ns, far longer than one 1 ns clock
    chip = chip_with(adc={"kind": "adc.flash", "bits": 5, "share": 8, "offset_sigmas": 3})
    t_sa = chip.model(f"{SUB}/shift_add").accumulate().latency
    assert t_sa < conversion_step(chip)
    mapping = map_network(chip, NET)
    result = evaluate(mapping)
    assert result.layers[0].energy_by_component[f"{SUB}/shift_add"] > 0   # the energy is still spent
    adders = sum(a.count[0] / a.active[0] * chip.model(a.path).add().latency
                 for a in action_counts(mapping) if a.action == "add")
    assert result.layers[0].latency_by_group["accumulation"] == pytest.approx(adders, rel=1e-9, abs=1e-18)


# -- placed subarray area ------------------------------------------------------------------------

def test_placed_box_by_hand_and_never_below_its_parts():
    chip = chip_with(sl_switch={"kind": "switch.sl"}, sl_write={"kind": "driver.write", "axis": "columns"},
                     wl_write={"kind": "driver.write", "gate_line": True})
    level = chip.levels["subarray"]
    w, h = chip.subarray.width(), chip.subarray.height()
    left = bottom = corner = 0.0
    for comp in level.components:
        side = placement_side(comp.model)
        a = comp.area * comp.spec.count
        left += a / h if side == "rows" else 0.0
        bottom += a / w if side == "columns" else 0.0
        corner += a if side == "corner" else 0.0
    assert {placement_side(chip.model(f"{SUB}/{n}")) for n in ("wl_switch", "wl_write")} == {"rows"}
    assert {placement_side(chip.model(f"{SUB}/{n}")) for n in ("sl_switch", "sl_write", "mux", "adc",
                                                                "shift_add")} == {"columns"}
    assert placement_side(chip.model(f"{SUB}/mux_decoder")) == "corner"
    box = subarray_box(chip)
    expected = (w + left) * (h + bottom) + max(0.0, corner - left * bottom)
    assert box.area == pytest.approx(expected, rel=1e-12)
    parts = level.array.area + sum(c.area * c.spec.count for c in level.components)
    assert box.parts_area == pytest.approx(parts, rel=1e-12)
    assert box.area >= parts
    subarrays = chip.instances(SUB)
    assert placed_area(chip) == pytest.approx(chip.area() + subarrays * (box.area - parts), rel=1e-12)


def test_result_reports_both_areas_and_round_trips(tmp_path):
    result = evaluate(map_network(chip_with(), NET))
    assert result.placed_area >= result.area > 0
    assert result.subarray_placed_area >= result.subarray_area > 0
    path = tmp_path / "r.json"
    result.to_json(path)
    back = Result.from_json(path)
    assert np.isclose(back.placed_area, result.placed_area) and back.subarray_area == result.subarray_area


def test_sram_line_current_and_wl_switch():
    sram = REGISTRY.memory_cell("sram.6t")
    f = TECH.feature_size
    r_cell = circuit.on_resistance(TECH, sram.access_width * f) + circuit.on_resistance(TECH, 2.08 * f)
    from cimgraph.components.switches import WLSwitchMatrix, line_current
    assert line_current(TECH, sram, 128, TECH.vdd) == pytest.approx(128 * TECH.vdd / r_cell, rel=1e-12)
    # expected: the half of the cells that store a one conduct
    assert line_current(TECH, sram, 128, TECH.vdd, "expected") == pytest.approx(64 * TECH.vdd / r_cell, rel=1e-12)
    # an SRAM row has no input data line: its WL switch matrix drives the WL pair only
    pairs = WLSwitchMatrix(TECH, sram).pairs()
    assert len(pairs) == 1 and pairs[0][:2] == (circuit.min_width(TECH), TECH.vdd)
    assert len(WLSwitchMatrix(TECH, CELL).pairs()) == 2


def test_adder_activity_scales_only_the_adder_nodes():
    from cimgraph.components.digital import AdderTree, ShiftAddBank, dff, ripple_adder

    base = ShiftAddBank(TECH, columns=128, share=8, adc_bits=5, input_bits=8)
    quiet = ShiftAddBank(TECH, columns=128, share=8, adc_bits=5, input_bits=8, activity=0.15)
    assert base.activity == 0.5   # default: uniformly random operands
    per_unit = ripple_adder(TECH, 13, 0.15).energy + 13 * dff(TECH).energy   # registers unchanged
    assert quiet.accumulate().energy == pytest.approx(16 * per_unit, rel=1e-12)
    tree = AdderTree(TECH, children=4, psum_bits=10, copies=2)
    assert AdderTree(TECH, children=4, psum_bits=10, copies=2, activity=0.25).add().energy == pytest.approx(
        tree.add().energy / 2, rel=1e-12)
    with pytest.raises(ValueError):
        ShiftAddBank(TECH, activity=1.5)


def test_write_path_sl_matrix_is_sized_for_one_cell_at_v_write():
    from cimgraph.components.switches import cell_conductance, tg_width

    sl = SLSwitchMatrix(TECH, CELL, rows=128, columns=128)
    current = CELL.write_voltage * cell_conductance(TECH, CELL, "expected")   # one cell per SL
    assert sl._tg_width() == pytest.approx(tg_width(TECH, current, CELL.write_voltage, 0.25), rel=1e-12)
    assert sl._tg_width() == circuit.min_width(TECH)          # 0.25 x ~190 kOhm needs no wide TG
    transposed = SLSwitchMatrix(TECH, CELL, rows=128, columns=128, read_input=True)
    assert transposed._tg_width() > sl._tg_width() and transposed.area() > sl.area()


def test_sequential_readout_mux_carries_one_cell():
    from cimgraph.components.switches import line_current, tg_width

    seq = ColumnMux(TECH, CELL, rows=128, columns=128, share=8, readout="sequential")
    one_cell = line_current(TECH, CELL, 1, CELL.read_voltage, "expected")
    assert seq.tg_width() == pytest.approx(tg_width(TECH, one_cell, CELL.read_voltage, 0.25), rel=1e-12)
    assert seq.tg_width() < ColumnMux(TECH, CELL, rows=128, columns=128, share=8).tg_width()
    # injected from the array: a sequential netlist's mux and mux decoder see it
    chip = chip_with(readout="sequential")
    assert chip.model(f"{SUB}/mux").readout == chip.model(f"{SUB}/mux_decoder").readout == "sequential"
