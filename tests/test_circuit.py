"""Shared circuit toolkit against hand calculations (round-number technology)."""
import math

import pytest

from cimgraph.components import circuit
from cimgraph.errors import CimgraphError
from cimgraph.tech.technology import Technology, WireLayer

F = 22e-9


def hand_tech() -> Technology:
    """A made-up 22 nm node with round numbers so every result can be computed by hand."""
    return Technology(
        name="hand22", feature_size=F, vdd=0.8, vth=0.3, temperature=300.0,
        i_on_n=1000.0, i_on_p=500.0, i_off_n=1e-3, i_off_p=0.5e-3,
        c_gate=1e-9, c_junction=0.5e-9, r_eff_n=1e-3, r_eff_p=2e-3,
        wire_local=WireLayer(pitch=2 * F, r=1e6, c=2e-10),
        wire_global=WireLayer(pitch=8 * F, r=1e5, c=2e-10),
        source="test",
    )


T = hand_tech()


def test_device_parasitics():
    assert circuit.min_width(T) == pytest.approx(44e-9)
    assert circuit.gate_cap(T, 1e-6) == pytest.approx(1e-15)
    assert circuit.drain_cap(T, 1e-6) == pytest.approx(0.5e-15)
    assert circuit.on_resistance(T, 1e-6) == pytest.approx(1000.0)
    assert circuit.on_resistance(T, 1e-6, pmos=True) == pytest.approx(2000.0)
    with pytest.raises(CimgraphError):
        circuit.on_resistance(T, 0.0)


def test_inverter_area_unfolded():
    # 28F cell; PMOS share of (28-3)F = 16.7F minus 5F end caps > 4F: no folding; (1+1) x (1+3)F wide
    g = circuit.gate_area(T, "inv", 1, 2 * F, 4 * F)
    assert g.height == pytest.approx(28 * F)
    assert g.width == pytest.approx(8 * F)
    assert g.area == pytest.approx(224 * F * F)


def test_inverter_area_folded():
    # P share 40/61 of 25F minus 5F = 11.39F -> 40F folds 4x (5 x 4F = 20F wide);
    # N share 21/61 of 25F minus 5F = 3.61F -> 21F folds 6x (7 x 4F = 28F wide)
    g = circuit.gate_area(T, "inv", 1, 21 * F, 40 * F)
    assert g.width == pytest.approx(28 * F)


def test_nand_area_and_bad_kind():
    g = circuit.gate_area(T, "nand", 2, 4 * F, 4 * F)
    assert g.width == pytest.approx(12 * F)   # (2 gates + 1) x 4F
    assert circuit.gate_area(T, "nor", 3, 4 * F, 4 * F).width == pytest.approx(16 * F)
    with pytest.raises(CimgraphError):
        circuit.gate_area(T, "xor", 2, 4 * F, 4 * F)


def test_horowitz():
    delay, ramp = circuit.horowitz(1e-10, 0.5, math.inf)
    assert delay == pytest.approx(math.log(2) * 1e-10)
    delay, ramp = circuit.horowitz(1e-10, 0.5, 1e10)   # alpha = 1
    assert delay == pytest.approx(1e-10 * math.sqrt(math.log(0.5) ** 2 + 0.5))
    assert ramp == pytest.approx(0.5 / delay)


def test_elmore_and_pi():
    assert circuit.elmore([1.0, 2.0], [3.0, 4.0]) == pytest.approx(15.0)
    assert circuit.pi_wire_delay(100.0, 200.0, 1e-15, 2e-15) == pytest.approx(8e-13)
    with pytest.raises(CimgraphError):
        circuit.elmore([1.0], [1.0, 2.0])


def test_energy_and_leakage():
    assert circuit.switching_energy(1e-15, 0.8, 0.5) == pytest.approx(0.32e-15)
    assert circuit.leakage_power(T, 1e-6, 2e-6) == pytest.approx(0.8e-9)


def test_repeated_wire_optimum_matches_eq_4_1_4_2():
    r = 1e-3 / 44e-9                     # minimum NMOS
    c = 1e-9 * (44e-9 + 88e-9)           # minimum inverter input (PMOS 2x for equal drive)
    p = 0.5
    rw, cw = 1e5, 2e-10
    wire = circuit.repeated_wire(T, "global")
    assert wire.segment_length == pytest.approx(math.sqrt(2 * r * c * (1 + p) / (rw * cw)))
    assert wire.repeater_width == pytest.approx(44e-9 * math.sqrt(r * cw / (rw * c)))
    # closed-form optimum: sqrt(R C r_w c_w) (2 + sqrt(2 (1 + p)))
    assert wire.delay_per_m == pytest.approx(math.sqrt(r * c * rw * cw) * (2 + math.sqrt(2 * (1 + p))))
    size = wire.repeater_width / 44e-9
    assert wire.energy_per_m == pytest.approx((cw + size * c * (1 + p) / wire.segment_length) * 0.8 ** 2)
    assert wire.area_per_m > 0 and wire.leakage_per_m > 0


def test_repeated_wire_tolerance_trades_delay_for_energy():
    best = circuit.repeated_wire(T, "global")
    relaxed = circuit.repeated_wire(T, "global", delay_tolerance=0.2)
    assert relaxed.delay_per_m <= best.delay_per_m * 1.2 * (1 + 1e-9)
    assert relaxed.delay_per_m > best.delay_per_m
    assert relaxed.energy_per_m < best.energy_per_m
    assert relaxed.repeater_width < best.repeater_width
    local = circuit.repeated_wire(T, "local")
    assert local.delay_per_m > best.delay_per_m      # 10x more resistive layer is slower
    with pytest.raises(CimgraphError):
        circuit.repeated_wire(T, "top")


# -- FinFET / GAA device grid (NeuroSim V1.4 formula.cpp) ---------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from cimgraph.components.arrays import cell_pitch  # noqa: E402
from cimgraph.tech.nodes import TECHNOLOGIES  # noqa: E402
from cimgraph.tech.advanced_nodes import ADVANCED_TECHNOLOGIES  # noqa: E402
from cimgraph.tech.cell_library import library  # noqa: E402

PLANAR = [t for t in TECHNOLOGIES.values() if t.device == "planar"]
BUILTIN_CELLS = {c.name: c for c in library()}


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(PLANAR) - 1), width=st.floats(1e-9, 1e-4), share=st.floats(0.0, 3.0))
def test_planar_nodes_keep_continuous_widths_bit_for_bit(index, width, share):
    # the quantised device grid must leave every planar node (130-22 nm, LSTP and HP) exactly as it was
    t = PLANAR[index]
    assert not t.quantised and t.fin_width is None and t.sram_cell_width is None
    assert circuit.effective_width(t, width) == width and circuit.width_gain(t, width) == 1.0
    assert circuit.gate_cap(t, width) == t.c_gate * width
    assert circuit.drain_cap(t, width) == t.c_junction * width
    assert circuit.on_resistance(t, width) == t.r_eff_n / width
    assert circuit.balanced_pmos_width(t, width) == width * t.r_eff_p / t.r_eff_n
    width_p = share * width
    assert circuit.leakage_power(t, width, width_p) == t.vdd * (t.i_off_n * width + t.i_off_p * width_p) / 2
    assert circuit.width_for_current(t, width * 1e3) == width * 1e3 / t.i_on_n
    assert circuit.cell_height(t) == circuit.CELL_HEIGHT * t.feature_size
    for cell in ("sram.6t", "sram.8t", "rram.1t1r"):
        c = BUILTIN_CELLS[cell]
        assert cell_pitch(t, c) == (c.width_f * t.feature_size, c.height_f * t.feature_size)


def test_whole_fins_and_stacks_hand_counted():
    one = ADVANCED_TECHNOLOGIES["1nm"]      # 4 sheets of 10 x 6 nm: 128 nm per stack, V1.4 gate C 66.94 aF
    five = ADVANCED_TECHNOLOGIES["5nm"]     # one fin of 106 nm effective width
    f1 = one.feature_size
    assert circuit.fins(one, 2 * f1) == 1 and circuit.fins(one, 2.5 * f1) == 2 and circuit.fins(one, 0.3 * f1) == 1
    assert circuit.gate_cap(one, 2 * f1) == pytest.approx(66.94e-18)        # the minimum device is one whole stack
    assert circuit.on_resistance(one, 6 * f1) == pytest.approx(one.r_eff_n / (3 * 128e-9))
    # V1.4's p/n ratio is an integer: 1 below 7 nm (I_on,p = I_on,n)
    assert circuit.balanced_pmos_width(one, 2 * f1) == 2 * f1
    # 100 uA needs ceil(100e-6 / (460.979 A/m x 128 nm)) = 2 stacks = 4F drawn
    assert circuit.width_for_current(one, 100e-6) == pytest.approx(4 * f1)
    # layout on the grid: an inverter is 2 contacted poly pitches wide and one cell high
    inv = circuit.gate_area(five, "inv", 1, 2 * five.feature_size, 2 * five.feature_size)
    assert inv.width == pytest.approx(2 * 51e-9) and inv.height == pytest.approx(180e-9)
    # 5 fins with at most 2 per row fold into 3 fingers: (3 + 1) pitches; NAND2 unfolded: 3 pitches
    folded = circuit.gate_area(five, "inv", 1, 10 * five.feature_size, 2 * five.feature_size)
    assert folded.width == pytest.approx(4 * 51e-9)
    nand = circuit.gate_area(five, "nand", 2, 2 * five.feature_size, 2 * five.feature_size)
    assert nand.width == pytest.approx(3 * 51e-9)
    # the 5 nm 6T bit cell of V1.4 (IRDS): 19.2 F x 43.75 F = 0.021 um^2, TSMC N5's high-density cell
    w, h = cell_pitch(five, BUILTIN_CELLS["sram.6t"])
    assert w * h == pytest.approx(0.021e-12, rel=0.01)


def test_finfet_14_to_7nm_use_their_fins():
    for node, fin in ((14, 56e-9), (10, 51e-9), (7, 43e-9)):   # 2 H_fin + W_fin of the PTM cards
        t = TECHNOLOGIES[f"{node}nm"]
        assert t.quantised and t.fin_width == pytest.approx(fin)
        assert circuit.gate_cap(t, circuit.min_width(t)) == pytest.approx(t.c_gate * fin)
