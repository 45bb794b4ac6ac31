"""Peripheral, digital, buffer and function-unit models: registration, sanity on every node,
monotonic laws, and hand-computed values from the circuit toolkit."""
from __future__ import annotations

import math

import attrs
import pytest

from cimgraph.components import circuit
from cimgraph.components.base import field_info
from cimgraph.components.buffers import DFFBuffer, SRAMBuffer
from cimgraph.components.decoders import (CrossbarWLDecoder, DecoderCore, DecoderDriver, MuxDecoder, RowDecoder,
                                          predecode_groups)
from cimgraph.components.digital import (AdderTree, Gate, RegisterBank, ShiftAddBank, bank_area, clocked, dff,
                                         ripple_adder)
from cimgraph.components.functional import MaxPooling, ReLU, Sigmoid
from cimgraph.components.switches import (BLSwitchMatrix, ColumnMux, SLSwitchMatrix, WLSwitchMatrix, line_current,
                                          tg_resistance)
from cimgraph.errors import CimgraphError
from cimgraph.plugins import default_registry

REGISTRY = default_registry()
NODES = sorted(REGISTRY.technologies)
CELLS = ("rram.1t1r", "rram.crossbar", "sram.6t", "fefet")
LN2 = math.log(2)


def tech(name: str = "22nm"):
    return REGISTRY.technology(name)


def cell(name: str = "rram.1t1r"):
    return REGISTRY.memory_cell(name)


def make(kind: str, t, c, **extra):
    """A representative instance of every kind this module covers."""
    array = dict(cell=c, rows=128, columns=128)
    builders = {
        "decoder.row": lambda: RowDecoder(t, **array),
        "decoder.wl": lambda: CrossbarWLDecoder(t, **array),
        "decoder.mux": lambda: MuxDecoder(t, **array, share=8),
        "decoder.driver": lambda: DecoderDriver(t, **array),
        "switch.bl": lambda: BLSwitchMatrix(t, **array),
        "switch.sl": lambda: SLSwitchMatrix(t, **array),
        "switch.wl": lambda: WLSwitchMatrix(t, **array),
        "mux.column": lambda: ColumnMux(t, **array, share=8),
        "adder.tree": lambda: AdderTree(t, children=8, psum_bits=10, copies=4),
        "shiftadd.bank": lambda: ShiftAddBank(t, columns=128, share=8, adc_bits=5, input_bits=8),
        "register.dff": lambda: RegisterBank(t, bits=64),
        "buffer.sram": lambda: SRAMBuffer(t, size="16kB", width=256),
        "buffer.dff": lambda: DFFBuffer(t, size=2048, width=64),
        "pool.max": lambda: MaxPooling(t, window=4, psum_bits=12, copies=8),
        "activation.relu": lambda: ReLU(t, psum_bits=12, copies=8),
        "activation.sigmoid": lambda: Sigmoid(t, bits=8, lut_bits=6, copies=2),
    }
    return attrs.evolve(builders[kind](), **extra) if extra else builders[kind]()


KINDS = ("decoder.row", "decoder.wl", "decoder.mux", "decoder.driver", "switch.bl", "switch.sl", "switch.wl",
         "mux.column", "adder.tree", "shiftadd.bank", "register.dff", "buffer.sram", "buffer.dff", "pool.max",
         "activation.relu", "activation.sigmoid")


def action_costs(model):
    return {name: getattr(model, name)() for name in type(model).actions()}


def ok(x: float) -> bool:
    return math.isfinite(x) and x > 0


# -- registration and metadata ------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_registered_with_source_actions_and_documented_fields(kind):
    cls = REGISTRY.component(kind)
    assert REGISTRY.components[kind].plugin.startswith("cimgraph.components.")
    assert cls.source and cls.__doc__
    assert cls.actions(), f"{kind} exposes none of its role's actions"
    for info in field_info(cls):
        assert info["doc"], f"{kind}.{info['name']} has no doc"


# -- every node, every cell: positive and finite ------------------------------------------

@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("kind", KINDS)
def test_positive_and_finite_on_every_node(kind, node):
    for cell_name in CELLS if kind.split(".")[0] in ("decoder", "switch", "mux") else CELLS[:1]:
        model = make(kind, tech(node), cell(cell_name))
        assert ok(model.area()), (kind, node, cell_name)
        assert ok(model.leakage()), (kind, node, cell_name)
        for name, cost in action_costs(model).items():
            assert ok(cost.latency) and ok(cost.energy), (kind, node, cell_name, name, cost)


# -- hand-computed values -----------------------------------------------------------------

def nand2_step_delay(t):
    """ln 2 x R (C_out + 2 C_in) of a minimum NAND2 (stack widened x2, PMOS balanced)."""
    w = circuit.min_width(t)
    wn, wp = 2 * w, circuit.balanced_pmos_width(t, w)
    c_in = circuit.gate_cap(t, wn + wp)
    c_out = circuit.drain_cap(t, wn + 2 * wp)
    return LN2 * circuit.on_resistance(t, w) * (c_out + 2 * c_in)


@pytest.mark.parametrize("bits", [1, 4, 8, 16])
def test_ripple_adder_latency_is_carry_chain_of_nand2(bits):
    t = tech()
    assert ripple_adder(t, bits).latency == pytest.approx((2 * bits + 4) * nand2_step_delay(t), rel=1e-9)
    two = AdderTree(t, children=2, psum_bits=bits)
    assert two.add().latency == pytest.approx(ripple_adder(t, bits).latency, rel=1e-12)


def test_adder_tree_stages_grow_one_bit_each():
    t = tech()
    tree = AdderTree(t, children=8, psum_bits=6, copies=3)
    expected = (ripple_adder(t, 6).latency + ripple_adder(t, 7).latency + ripple_adder(t, 8).latency)
    assert tree.add().latency == pytest.approx(expected, rel=1e-12)
    energy = 4 * ripple_adder(t, 6).energy + 2 * ripple_adder(t, 7).energy + ripple_adder(t, 8).energy
    assert tree.add().energy == pytest.approx(3 * energy, rel=1e-12)
    assert AdderTree(t, children=1).area() == 0.0  # one operand: a wire


def test_ripple_adder_energy_is_cv2_of_nine_nand2_per_bit():
    t = tech()
    gate = Gate(t, "nand", 2)
    per_gate = 0.5 * (gate.c_out + 2 * gate.c_in) * t.vdd ** 2
    assert ripple_adder(t, 8).energy == pytest.approx(9 * 8 * per_gate, rel=1e-12)


def test_shift_adder_width_and_units():
    t = tech()
    bank = ShiftAddBank(t, columns=100, share=8, adc_bits=5, input_bits=8)
    assert bank.units == 13 and bank.bits == 13
    unit = ripple_adder(t, 13).then(dff(t).copies(13))
    assert bank.accumulate().energy == pytest.approx(13 * unit.energy, rel=1e-12)
    assert bank.area() == pytest.approx(13 * unit.area, rel=1e-12)


def test_register_bank_is_bits_times_one_dff():
    t = tech()
    assert RegisterBank(t, bits=32).clock().energy == pytest.approx(32 * dff(t).energy)
    assert RegisterBank(t, bits=32).area() == pytest.approx(32 * dff(t).area)


def test_clocked_rounds_up_to_whole_cycles():
    assert clocked(1.2e-9, 1e9) == pytest.approx(2e-9)
    assert clocked(1.0e-9, 1e9) == pytest.approx(1e-9)
    assert clocked(1.2e-9, None) == 1.2e-9
    t = tech()
    assert AdderTree(t, children=4, clock=1e9).add().latency == pytest.approx(1e-9)


@pytest.mark.parametrize("bits,groups", [(1, [1]), (2, [2]), (3, [3]), (4, [2, 2]), (5, [3, 2]), (7, [3, 2, 2]),
                                         (8, [3, 3, 2]), (9, [3, 3, 3]), (10, [3, 3, 2, 2])])
def test_predecoder_groups_cover_the_address(bits, groups):
    assert predecode_groups(bits) == groups
    assert sum(groups) == bits


def test_bank_area_stacks_cells_along_the_span():
    t = tech()
    h = circuit.CELL_HEIGHT * t.feature_size
    # span of 10.5 cells holds 10 per stack: 36 cells -> 4 stacks
    assert bank_area(t, 36, 1e-6, 10.5 * h) == pytest.approx(4 * 1e-6 * 10.5 * h)
    assert bank_area(t, 36, 1e-6, None) == pytest.approx(36 * 1e-6 * h)


def test_switch_tg_meets_the_ir_drop_rule():
    t, c = tech(), cell("rram.1t1r")
    r_access = circuit.on_resistance(t, c.access_width * t.feature_size)
    worst = line_current(t, c, 128, c.read_voltage)
    assert worst == pytest.approx(128 * c.read_voltage / (c.r_on + r_access))
    expected = line_current(t, c, 128, c.read_voltage, sizing="expected")
    g_mean = (1 / (c.r_on + r_access) + 1 / (c.r_off + r_access)) / 2
    assert expected == pytest.approx(128 * c.read_voltage * g_mean)
    # R_TG = 0.25 x the load resistance V / I (the rule binds: TG wider than minimum)
    for sizing, current in (("worst", worst), ("expected", expected)):
        sw = BLSwitchMatrix(t, cell=c, rows=128, columns=128, ir_drop=0.25, sizing=sizing)
        assert tg_resistance(t, sw._tg_width()) == pytest.approx(0.25 * c.read_voltage / current, rel=1e-9)


def test_column_mux_counts():
    t, c = tech(), cell("rram.1t1r")
    assert ColumnMux(t, cell=c, columns=100, share=8).muxes == 13
    with pytest.raises(CimgraphError, match="share"):
        ColumnMux(t, cell=c, columns=4, share=8)


def test_decoder_core_single_group_uses_inverter_final_stage():
    t = tech()
    core = DecoderCore(t, 4, c_line=10e-15)
    assert core.groups == [2]
    block = core.block()
    assert ok(block.area) and ok(block.latency) and ok(block.energy)


def test_sram_macro_holds_its_size():
    t = tech()
    buf = SRAMBuffer(t, size="64kB", width=512)
    macro = buf.macro()
    assert macro.columns % 512 == 0
    assert macro.rows * macro.columns >= 64 * 1024 * 8
    assert buf.area() > macro.rows * macro.columns * 160 * t.feature_size ** 2


# -- monotonic laws -----------------------------------------------------------------------

def nondecreasing(values):
    return all(b >= a * (1 - 1e-12) for a, b in zip(values, values[1:]))


def increasing(values):
    return all(b > a for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("kind", ["decoder.row", "decoder.wl", "decoder.driver", "switch.bl", "switch.wl"])
def test_more_rows_never_cheaper(kind):
    t, c = tech(), cell("rram.1t1r")
    models = [attrs.evolve(make(kind, t, c), rows=r) for r in (32, 64, 128, 256, 512)]
    assert increasing([m.area() for m in models])
    assert nondecreasing([m.leakage() for m in models])
    action = type(models[0]).actions()[0]
    if kind not in ("decoder.driver",):
        assert nondecreasing([getattr(m, action)().energy for m in models])


@pytest.mark.parametrize("kind", ["switch.sl", "mux.column", "decoder.mux"])
def test_more_columns_never_cheaper(kind):
    t, c = tech(), cell("rram.1t1r")
    models = [attrs.evolve(make(kind, t, c), columns=n) for n in (32, 64, 128, 256)]
    assert increasing([m.area() for m in models])
    action = type(models[0]).actions()[0]
    assert nondecreasing([getattr(m, action)().energy for m in models])


def test_row_decoder_wider_array_means_slower_word_line():
    t, c = tech(), cell("rram.1t1r")
    models = [RowDecoder(t, cell=c, rows=128, columns=n) for n in (32, 128, 512)]
    assert nondecreasing([m.decode().latency for m in models])
    assert increasing([m.decode().energy for m in models])


def test_all_open_raises_every_word_line():
    t, c = tech(), cell("rram.1t1r")
    one = CrossbarWLDecoder(t, cell=c, all_open=False).decode()
    every = CrossbarWLDecoder(t, cell=c, all_open=True).decode()
    decoder, follower, buffer, _ = CrossbarWLDecoder(t, cell=c)._parts()
    assert every.energy == pytest.approx(buffer.energy + 128 * follower.energy)
    assert one.energy == pytest.approx(decoder.energy + follower.energy)
    assert every.energy > 10 * one.energy


def test_switch_drive_energy_grows_with_input_activity():
    t, c = tech(), cell("rram.1t1r")
    sw = BLSwitchMatrix(t, cell=c)
    assert increasing([sw.drive(a).energy for a in (0.0, 0.25, 0.5, 1.0)])
    with pytest.raises(CimgraphError, match="input_activity"):
        sw.drive(1.5)


@pytest.mark.parametrize("kind,field,values", [
    ("adder.tree", "psum_bits", (4, 8, 16, 32)),
    ("adder.tree", "children", (2, 4, 16, 64)),
    ("shiftadd.bank", "input_bits", (1, 4, 8, 16)),
    ("shiftadd.bank", "adc_bits", (1, 3, 5, 8)),
    ("register.dff", "bits", (1, 8, 64, 512)),
    ("buffer.sram", "size", (4096.0, 16384.0, 131072.0, 1048576.0)),
    ("buffer.dff", "size", (128.0, 512.0, 2048.0)),
    ("pool.max", "psum_bits", (4, 8, 16)),
    ("pool.max", "window", (2, 4, 9, 16)),
    ("activation.relu", "psum_bits", (2, 8, 16)),
    ("activation.sigmoid", "lut_bits", (4, 6, 8, 10)),
    ("activation.sigmoid", "bits", (4, 8, 16)),
])
def test_more_bits_never_cheaper(kind, field, values):
    t = tech()
    models = [make(kind, t, cell(), **{field: v}) for v in values]
    assert increasing([m.area() for m in models]), field
    assert nondecreasing([m.leakage() for m in models]), field
    for action in type(models[0]).actions():
        costs = [getattr(m, action)() for m in models]
        assert nondecreasing([c.energy for c in costs]), (field, action)
        assert nondecreasing([c.latency for c in costs]), (field, action)


@pytest.mark.parametrize("kind", ["adder.tree", "pool.max", "activation.relu", "activation.sigmoid"])
def test_more_copies_more_area(kind):
    t = tech()
    models = [make(kind, t, cell(), copies=n) for n in (1, 2, 8)]
    assert increasing([m.area() for m in models])
    assert models[2].area() == pytest.approx(8 * models[0].area())
    action = type(models[0]).actions()[0]
    assert getattr(models[2], action)().energy == pytest.approx(8 * getattr(models[0], action)().energy)


def test_buffer_width_costs_energy_per_access():
    t = tech()
    narrow, wide = SRAMBuffer(t, size="16kB", width=64), SRAMBuffer(t, size="16kB", width=512)
    assert wide.read().energy > narrow.read().energy
    assert wide.write().energy > narrow.write().energy


def test_scaling_shrinks_area():
    areas = [make("decoder.row", tech(n), cell()).area() for n in ("130nm", "65nm", "22nm", "7nm")]
    assert all(b < a for a, b in zip(areas, areas[1:]))


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda t: AdderTree(t, children=0),
    lambda t: AdderTree(t, psum_bits="eight"),
    lambda t: ShiftAddBank(t, share=0),
    lambda t: RegisterBank(t, bits=-1),
    lambda t: MaxPooling(t, window=1.5),
    lambda t: DecoderDriver(t, variant="fancy"),
    lambda t: RowDecoder(t, rows=1),
    lambda t: SRAMBuffer(t, size="12 apples"),
])
def test_bad_fields_are_rejected(build):
    with pytest.raises((ValueError, TypeError, CimgraphError)):
        build(tech())


def test_buffer_smaller_than_its_width_is_an_error():
    with pytest.raises(CimgraphError, match="at least width"):
        SRAMBuffer(tech(), size=64, width=128)
    with pytest.raises(CimgraphError, match="at least width"):
        DFFBuffer(tech(), size=32, width=64)


def test_array_peripheral_without_cell_or_size_is_an_error():
    with pytest.raises(CimgraphError, match="array_width"):
        RowDecoder(tech()).area()
    sized = RowDecoder(tech(), array_width=20e-6, array_height=20e-6)
    assert ok(sized.area())


def test_wl_switch_matrix_drives_wl_and_bl_together():
    t, c = tech(), cell("rram.1t1r")
    wl = WLSwitchMatrix(t, cell=c)
    bl = BLSwitchMatrix(t, cell=c)
    (gate_w, gate_v, _), (data_w, data_v, _) = wl.pairs()
    assert gate_w == circuit.min_width(t) and gate_v == t.vdd
    assert data_w == pytest.approx(bl._tg_width()) and data_v == c.read_voltage
    assert wl.area() > bl.area()
