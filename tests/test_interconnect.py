"""H-tree and bus models: geometry of the stages, repeated-wire costs against the toolkit's
closed forms, every node, monotonic laws, bad input."""
from __future__ import annotations

import math
import re

import pytest

from cimgraph.components import circuit
from cimgraph.components.base import Cost, field_info
from cimgraph.components.interconnect import Bus, HTree, driver_size, wire_run
from cimgraph.errors import CimgraphError
from cimgraph.plugins import default_registry

REGISTRY = default_registry()
NODES = sorted(REGISTRY.technologies)
UM = 1e-6


def tech(name: str = "22nm"):
    return REGISTRY.technology(name)


def htree(**kw):
    args = dict(children=16, child_width=100 * UM, child_height=100 * UM, width=128)
    args.update(kw)
    return HTree(kw.pop("tech", tech()), **{k: v for k, v in args.items() if k != "tech"})


def bus(**kw):
    args = dict(children=8, child_width=100 * UM, child_height=100 * UM, width=128)
    args.update(kw)
    return Bus(kw.pop("tech", tech()), **{k: v for k, v in args.items() if k != "tech"})


@pytest.mark.parametrize("kind", ["link.htree", "link.bus"])
def test_registered_documented(kind):
    cls = REGISTRY.component(kind)
    assert cls.group == "interconnect" and cls.source and cls.actions() == ("transfer",)
    assert all(info["doc"] for info in field_info(cls))


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("make", [htree, bus])
def test_positive_and_finite_on_every_node(make, node):
    for children in (1, 2, 16, 256):
        link = make(tech=tech(node), children=children)
        cost = link.transfer()
        for value in (link.area(), link.leakage(), cost.latency, cost.energy):
            assert math.isfinite(value) and value > 0, (node, children, value)


# -- geometry ------------------------------------------------------------------------------

def test_htree_stage_lengths_halve_from_the_main_bus():
    # 16 units in a 4 x 4 grid of 100 um: region 400 x 400 um
    runs = htree(children=16).runs()
    assert runs == pytest.approx([200 * UM, 100 * UM, 100 * UM, 50 * UM, 50 * UM])
    # 8 units: 4 x 2 grid, region 400 x 200 um
    assert htree(children=8).runs() == pytest.approx([200 * UM, 100 * UM, 50 * UM, 50 * UM])
    assert htree(children=1).runs() == pytest.approx([50 * UM])
    assert htree(children=16).levels == 4 and htree(children=17).levels == 5
    # 9 units (novel-mapping PEs) sit in a 3 x 3 region of 300 x 300 um, not a 4 x 4 one
    assert htree(children=9).runs() == pytest.approx([150 * UM, 75 * UM, 75 * UM, 37.5 * UM, 37.5 * UM])


def test_bus_spans_the_row():
    assert bus(children=8).runs() == pytest.approx([800 * UM])


# -- repeated wires against the toolkit's closed forms --------------------------------------

@pytest.mark.parametrize("node", ["130nm", "45nm", "22nm", "7nm"])
def test_long_run_matches_optimal_repeated_wire(node):
    t = tech(node)
    design = circuit.repeated_wire(t, "global", 0.0)
    length = 10 * design.segment_length
    run = wire_run(t, length, "global", 0.0, activity=1.0)
    # step-input Horowitz of each Elmore segment: ln 2 x tau
    assert run.latency == pytest.approx(math.log(2) * design.delay_per_m * length, rel=1e-9)
    assert run.energy == pytest.approx(design.energy_per_m * length, rel=1e-9)
    assert run.leakage == pytest.approx(design.leakage_per_m * length, rel=1e-6)


def test_driver_size_without_tolerance_is_eq_4_2():
    t = tech()
    wire = t.wire_global
    w = circuit.min_width(t)
    r = circuit.on_resistance(t, w)
    c = circuit.gate_cap(t, w + circuit.balanced_pmos_width(t, w))
    expected = math.sqrt(r * wire.c / (wire.r * c))
    assert driver_size(t, wire.r * 1e-4, wire.c * 1e-4, 0.0) == pytest.approx(expected, rel=1e-12)


def test_delay_tolerance_trades_delay_for_energy():
    fast, thrifty = htree(delay_tolerance=0.0), htree(delay_tolerance=0.5)
    assert thrifty.transfer().energy < fast.transfer().energy
    assert thrifty.transfer().latency >= fast.transfer().latency
    assert thrifty.transfer().latency <= 1.5 * fast.transfer().latency * (1 + 1e-9) + 1e-15


def test_energy_is_per_bit_times_width():
    one, many = htree(width=1), htree(width=256)
    assert many.transfer().energy == pytest.approx(256 * one.transfer().energy)
    assert many.area() == pytest.approx(256 * one.area())
    assert many.transfer().latency == pytest.approx(one.transfer().latency)


# -- monotonic laws ------------------------------------------------------------------------

@pytest.mark.parametrize("make", [htree, bus])
def test_more_children_never_faster_or_smaller(make):
    links = [make(children=n) for n in (1, 2, 4, 8, 16, 64, 256)]
    latencies = [link.transfer().latency for link in links]
    assert all(b >= a for a, b in zip(latencies, latencies[1:]))
    areas = [link.area() for link in links]
    assert all(b > a for a, b in zip(areas, areas[1:]))


@pytest.mark.parametrize("make", [htree, bus])
def test_bigger_children_never_faster(make):
    links = [make(child_width=s * UM, child_height=s * UM) for s in (20, 100, 500, 2000)]
    latencies = [link.transfer().latency for link in links]
    assert all(b >= a for a, b in zip(latencies, latencies[1:]))
    energies = [link.transfer().energy for link in links]
    assert all(b > a for a, b in zip(energies, energies[1:]))


def test_wider_bus_never_cheaper():
    links = [htree(width=w) for w in (8, 64, 512)]
    assert all(b.area() > a.area() and b.transfer().energy > a.transfer().energy and b.leakage() > a.leakage()
               for a, b in zip(links, links[1:]))


def test_local_layer_is_slower_than_global_over_a_millimetre():
    assert bus(children=10, layer="local").transfer().latency > bus(children=10, layer="global").transfer().latency


# -- bad input ----------------------------------------------------------------------------

def test_missing_child_size_is_an_error():
    with pytest.raises(CimgraphError, match="child_width"):
        HTree(tech(), children=4)


@pytest.mark.parametrize("kw", [dict(children=0), dict(width=0), dict(layer="m9"), dict(delay_tolerance=-1),
                                dict(child_width="wide")])
def test_bad_fields_are_rejected(kw):
    with pytest.raises((ValueError, TypeError, CimgraphError)):
        htree(**kw)


def test_toggle_above_one_is_an_error():
    with pytest.raises(CimgraphError, match="toggle"):
        htree(toggle=1.5)
    with pytest.raises(CimgraphError, match="toggle"):
        htree().transfer(toggle=1.2)


def test_area_is_the_repeaters():
    t = tech()
    run = wire_run(t, 1e-3, "global", 0.1, 0.5)
    design = circuit.repeated_wire(t, "global", 0.1)
    n = math.ceil(1e-3 / design.segment_length - 1e-9)
    size = driver_size(t, t.wire_global.r * 1e-3 / n, t.wire_global.c * 1e-3 / n, 0.1)
    w_n = size * circuit.min_width(t)
    assert run.area == pytest.approx(n * circuit.gate_area(t, "inv", 1, w_n, circuit.balanced_pmos_width(t, w_n)).area)


# -- NeuroSim's PE buses: one per grid row or column, (n - 1) units long ------------------------

@pytest.mark.parametrize("children, rows, columns", [(16, 4, 4), (9, 3, 3), (8, 2, 4)])
def test_bus_along_rows_and_columns_spans_n_minus_one_units(children, rows, columns):
    w, h = 100 * UM, 50 * UM      # Bus.cpp: HORIZONTAL unitWidth x (numCol - 1), VERTICAL unitHeight x (numRow - 1)
    along_rows = bus(children=children, child_width=w, child_height=h, along="rows")
    along_columns = bus(children=children, child_width=w, child_height=h, along="columns")
    assert along_rows.runs() == pytest.approx([(columns - 1) * w]) and along_rows.buses == rows
    assert along_columns.runs() == pytest.approx([(rows - 1) * h]) and along_columns.buses == columns


def test_parallel_buses_multiply_area_and_leakage_not_the_flit():
    t, length = tech(), 300 * UM
    run = wire_run(t, length, "global", 0.1, 0.25)
    b = bus(children=16, along="rows")
    assert b.area() == pytest.approx(4 * 128 * run.area) and b.leakage() == pytest.approx(4 * 128 * run.leakage)
    assert b.transfer().energy == pytest.approx(128 * run.energy) and b.transfer().latency == pytest.approx(run.latency)


def test_one_unit_per_row_has_no_wire():
    # 2 units sit in a 1 x 2 grid: the column buses pass one unit each and have no wire, as NeuroSim's
    for b in (bus(children=2, along="columns"), bus(children=1, along="rows")):
        assert b.runs() == [0.0] and b.transfer() == Cost(0.0, 0.0) and b.area() == 0.0 and b.leakage() == 0.0
    assert bus(children=2, along="rows").runs() == pytest.approx([100 * UM])


def test_default_bus_is_one_run_past_every_unit():
    t, b = tech(), bus(children=8)
    run = wire_run(t, 8 * 100 * UM, "global", 0.1, 0.25)
    assert b.along == "line" and b.buses == 1 and b.carries == "both"
    assert b.transfer().energy == 128 * run.energy and b.transfer().latency == run.latency
    assert b.area() == 128 * run.area and b.leakage() == 128 * run.leakage


@pytest.mark.parametrize("make, kw, message", [
    (bus, dict(along="diagonal"), "along: expected one of 'line', 'rows', 'columns', got 'diagonal'"),
    (bus, dict(carries="down"), "carries: expected one of 'both', 'input', 'output', got 'down'"),
    (htree, dict(carries="up"), "carries: expected one of 'both', 'input', 'output', got 'up'"),
])
def test_bad_direction_fields_are_named(make, kw, message):
    with pytest.raises(CimgraphError, match=re.escape(message)):
        make(**kw)
