"""Array models: positivity across nodes, scaling laws, hand checks, bad cells."""
import math

import pytest

from cimgraph.components.arrays import CrossbarArray, FeFETArray, RRAMArray, SRAMArray
from cimgraph.errors import CimgraphError
from cimgraph.plugins import default_registry
from cimgraph.tech.cells import MemoryCell

REG = default_registry()
NODES = sorted(REG.technologies)
KINDS = [(RRAMArray, "rram.1t1r"), (CrossbarArray, "rram.crossbar"), (FeFETArray, "fefet"),
         (SRAMArray, "sram.6t"), (CrossbarArray, "neurotorch.reram2"), (FeFETArray, "flash.nor")]


def make(cls, cell, node="22nm", **kw):
    return cls(tech=REG.technology(node), cell=REG.memory_cell(cell), **kw)


def finite_positive(x):
    return math.isfinite(x) and x > 0


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("cls,cell", KINDS)
@pytest.mark.parametrize("readout", ["parallel", "sequential"])
def test_positive_finite_everywhere(node, cls, cell, readout):
    a = make(cls, cell, node, readout=readout)
    assert finite_positive(a.area()) and finite_positive(a.width()) and finite_positive(a.height())
    assert math.isfinite(a.leakage()) and a.leakage() >= 0
    for cost in (a.read(), a.read(0.1, 0.9), a.write()):
        assert finite_positive(cost.latency) and finite_positive(cost.energy)
    if cls is not SRAMArray:
        t = a.read_transposed()
        assert finite_positive(t.latency) and finite_positive(t.energy)


def test_area_is_cells_times_geometry():
    a = make(RRAMArray, "rram.1t1r", rows=128, columns=128, reference_columns=0)
    f = 22e-9
    assert a.area() == pytest.approx(128 * 128 * a.cell.area_f2 * f * f)
    assert a.cell.area_f2 == a.cell.width_f * a.cell.height_f == 48   # NeuroSim V1.4 1T1R: 4F x 12F
    # default dummy columns for parallel eNVM: one weight's cells (seed 001 sec. 7.1)
    b = make(RRAMArray, "rram.1t1r", rows=128, columns=128, cells_per_weight=8)
    assert b.dummy_columns == 8 and b.width() == pytest.approx(136 * 12 * f)
    assert make(RRAMArray, "rram.1t1r", readout="sequential").dummy_columns == 0


@pytest.mark.parametrize("cls,cell", KINDS)
def test_doubling_columns_doubles_area(cls, cell):
    a = make(cls, cell, columns=128, reference_columns=0)
    b = make(cls, cell, columns=256, reference_columns=0)
    assert b.area() / a.area() == pytest.approx(2.0)


@pytest.mark.parametrize("cls,cell", KINDS)
def test_older_node_larger_area(cls, cell):
    areas = [make(cls, cell, n).area() for n in ("130nm", "65nm", "22nm", "7nm")]
    assert areas == sorted(areas, reverse=True)


@pytest.mark.parametrize("cls,cell", KINDS)
def test_read_energy_grows_with_activity_and_density(cls, cell):
    a = make(cls, cell)
    energies = [a.read(x, 0.5).energy for x in (0.0, 0.25, 0.5, 1.0)]
    assert all(e2 > e1 for e1, e2 in zip(energies, energies[1:]))
    energies = [a.read(0.5, w).energy for w in (0.0, 0.5, 1.0)]
    assert all(e2 > e1 for e1, e2 in zip(energies, energies[1:]))


def test_rram_cell_energy_by_hand():
    """Difference of two reads isolates V^2 G t of the added cells (line terms are linear in activity)."""
    a = make(RRAMArray, "rram.1t1r", reference_columns=0)
    cell, tech = a.cell, a.tech
    r_acc = tech.r_eff_n / (cell.access_width * tech.feature_size)
    g_on = 1 / (cell.r_on + r_acc)
    g_off = 1 / (cell.r_off + r_acc)
    d_full = a.read(1.0, 1.0).energy - a.read(1.0, 0.0).energy
    assert d_full == pytest.approx(cell.read_voltage ** 2 * 128 * 128 * (g_on - g_off) * 10e-9, rel=1e-9)
    assert a.read().latency > cell.read_pulse


def test_sequential_read_cheaper_than_parallel():
    par = make(RRAMArray, "rram.1t1r").read()
    seq = make(RRAMArray, "rram.1t1r", readout="sequential").read()
    assert seq.energy < par.energy


def test_longer_lines_slower():
    short = make(RRAMArray, "rram.1t1r", rows=64, columns=64).read().latency
    long = make(RRAMArray, "rram.1t1r", rows=512, columns=512).read().latency
    assert long > short


def test_write_scales_with_levels_and_update():
    a = make(RRAMArray, "rram.1t1r")
    w = a.write()
    assert w.latency >= (128 + 128) * 60e-9
    assert a.write(0.25).energy < w.energy and a.write(0.25).latency < w.latency
    fe = make(FeFETArray, "fefet").write()
    assert fe.latency >= 64 * 75e-9


def test_sram_bitline_discharge_by_hand():
    a = make(SRAMArray, "sram.6t", readout="sequential")
    tech = a.tech
    f = tech.feature_size
    i = tech.vdd / (tech.r_eff_n / (1.31 * f) + tech.r_eff_n / (2.08 * f))
    assert a.cell_current() == pytest.approx(i)
    c_bl = 128 * (tech.wire_local.c * 8 * f + tech.c_junction * 1.31 * f)
    assert a.read().latency > c_bl * 0.1 / i
    assert a.leakage() > 0


def test_sram_cell_widths_are_cell_fields_every_model_reads():
    """The SRAM cell's pull-down / pull-up widths (default: the V2 manual's 2.08 F / 1.23 F) set the array's
    read current, leakage and write, the flash ADC's current range and the mux's IR-drop line current, all
    through arrays.sram_read_resistance; NeuroSim V1.4's 1 F / 1 F cell (Param.cpp, technode > 14) reads
    with less current and leaks less."""
    import attrs

    from cimgraph.components.adc import FlashADC
    from cimgraph.components.switches import line_current

    v2 = REG.memory_cell("sram.8t")
    assert (v2.pulldown_width, v2.pullup_width) == (2.08, 1.23)
    v14 = attrs.evolve(v2, access_width=1, pulldown_width=1, pullup_width=1)
    tech = REG.technology("22nm")
    f, vdd = tech.feature_size, tech.vdd
    a2, a14 = (SRAMArray(tech=tech, cell=c) for c in (v2, v14))
    i14 = vdd / (2 * tech.r_eff_n / f)   # access 1 F + pull-down 1 F in series, planar: r_eff / W
    assert a14.cell_current() == pytest.approx(i14)
    assert a2.cell_current() > a14.cell_current()
    # 8T leakage per cell: Vdd (I_off,n (pull-down + 2 access) + I_off,p pull-up), 1 F each
    per_cell = vdd * (tech.i_off_n * 3 * f + tech.i_off_p * f)
    assert a14.leakage() == pytest.approx(per_cell * 128 * 128)
    assert a2.leakage() > a14.leakage()
    assert a14.write().latency < a2.write().latency   # smaller cell node to flip
    adc = FlashADC(tech=tech, cell=v14, rows=128, columns=128, bits=5, share=8)
    assert adc.current_range() == pytest.approx((0.0, 128 * i14))
    assert line_current(tech, v14, 128, vdd, "worst") == pytest.approx(128 * i14)
    with pytest.raises(CimgraphError, match="pull-down and pull-up transistor widths"):
        SRAMArray(tech=tech, cell=attrs.evolve(v2, pulldown_width=None))


def test_sram_transposable_needs_8t():
    with pytest.raises(CimgraphError, match="8T"):
        make(SRAMArray, "sram.6t", transposable=True)
    t = make(SRAMArray, "sram.8t", transposable=True)
    assert t.read_transposed().energy > 0
    with pytest.raises(CimgraphError, match="transposable"):
        make(SRAMArray, "sram.6t").read_transposed()


@pytest.mark.parametrize("cls,cell", [(RRAMArray, "sram.6t"), (RRAMArray, "rram.crossbar"), (SRAMArray, "rram.1t1r"),
                                      (FeFETArray, "rram.1t1r"), (CrossbarArray, "fefet")])
def test_unsupported_cell_is_a_cimgraph_error(cls, cell):
    with pytest.raises(CimgraphError, match="cannot model memory cell"):
        make(cls, cell)


@pytest.mark.parametrize("cls", [RRAMArray, CrossbarArray, FeFETArray, SRAMArray])
def test_capacitive_cell_rejected(cls):
    cap = MemoryCell(name="test.cap", family="nvcap", access="crossbar", area_f2=4, width_f=2, height_f=2,
                     c_on=2e-15, c_off=0.2e-15, source="test")
    with pytest.raises(CimgraphError, match="cannot model memory cell 'test.cap'"):
        cls(tech=REG.technology("22nm"), cell=cap)


def test_bad_fractions():
    a = make(RRAMArray, "rram.1t1r")
    with pytest.raises(CimgraphError):
        a.read(1.5)
    with pytest.raises(CimgraphError):
        a.read(0.5, -0.1)


def test_registered():
    for kind in ("array.sram", "array.rram", "array.crossbar", "array.fefet"):
        assert REG.component(kind).role() == "array"
