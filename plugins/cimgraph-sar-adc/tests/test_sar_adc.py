"""adc.sar: published switching-energy counts, the kT/C bound, scaling laws, sampling-rate limits,
registration through the entry point, and the report section."""
from __future__ import annotations

import importlib.metadata
import math
from types import SimpleNamespace

import attrs
import pytest

from cimgraph.errors import CimgraphError
from cimgraph.plugins import get_plugin_manager, load_registry
from cimgraph_sar_adc import SarADC, SarDesignError
from cimgraph_sar_adc.model import BOLTZMANN
from cimgraph_sar_adc.report import sar_rows

REGISTRY = load_registry()
NODES = [name for name in REGISTRY.technologies]
TECH = REGISTRY.technology("22nm")


def sar(bits: int = 6, tech=TECH, **kw) -> SarADC:
    return SarADC(tech=tech, bits=bits, **kw)


# -- registration ------------------------------------------------------------------------------

def test_entry_point_registers_adc_sar_with_package_version():
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="cimgraph")}
    assert names.get("sar_adc") == "cimgraph_sar_adc"
    entry = REGISTRY.components["adc.sar"]
    assert entry.value is SarADC
    assert entry.plugin == "cimgraph-sar-adc"
    assert entry.version == importlib.metadata.version("cimgraph-sar-adc")
    assert "cimgraph_register_components" in REGISTRY.plugin_hooks["cimgraph-sar-adc"]
    assert SarADC.role() == "adc" and SarADC.actions() == ("convert",)


def test_without_entry_points_the_kind_is_missing_and_the_error_names_the_package():
    bare = load_registry(get_plugin_manager(entry_points=False))
    with pytest.raises(CimgraphError, match="cimgraph-sar-adc"):
        bare.component("adc.sar")


# -- published switching energy (Liu et al. JSSC 2010, Table I) --------------------------------

def test_ten_bit_switching_energy_matches_liu_table():
    v2 = TECH.vdd ** 2
    mono = sar(10, scheme="monotonic")
    cu = mono.unit_capacitance()
    reset = (2 ** 9 - 1) * cu * v2
    assert (mono.dac_energy() - reset) / (cu * v2) == pytest.approx(255.5)
    conv = sar(10, scheme="conventional")
    assert conv.dac_energy() / (conv.unit_capacitance() * v2) == pytest.approx(1363.33, rel=1e-5)
    assert conv.dac_capacitance() == pytest.approx(2 * mono.dac_capacitance())


def test_unit_cap_rises_to_the_ktc_bound():
    tiny = sar(10, unit_cap=1e-18)
    bound = 6 * BOLTZMANN * TECH.temperature * 4 ** 10 / TECH.vdd ** 2  # per side
    assert tiny.unit_capacitance() == pytest.approx(bound / 2 ** 9)
    assert sar(10).unit_capacitance() == pytest.approx(0.5e-15)  # design value above the bound


# -- scaling laws ------------------------------------------------------------------------------

@pytest.mark.parametrize("node", NODES)
def test_energy_latency_area_increase_with_bits_and_are_finite(node):
    tech = REGISTRY.technology(node)
    previous = None
    for bits in range(1, 13):
        adc = sar(bits, tech=tech)
        cost = adc.convert()
        now = (cost.energy, cost.latency, adc.area())
        for value in (*now, adc.leakage()):
            assert math.isfinite(value) and value > 0
        if previous is not None:
            assert all(n > p for n, p in zip(now, previous)), (node, bits)
        previous = now


def test_older_node_costs_more_energy_and_area():
    for bits in (4, 8):
        old, new = sar(bits, tech=REGISTRY.technology("130nm")), sar(bits, tech=REGISTRY.technology("7nm"))
        assert old.conversion_energy() > new.conversion_energy()
        assert old.adc_area() > new.adc_area()


def test_bank_holds_one_adc_per_share_columns():
    one = sar(6, columns=8, share=8)
    bank = sar(6, columns=128, share=8)
    assert bank.adcs == 16
    assert bank.convert().energy == pytest.approx(16 * one.convert().energy)
    assert bank.convert().latency == pytest.approx(one.convert().latency)
    assert bank.area() == pytest.approx(16 * one.area())
    assert sar(6, columns=130, share=8).adcs == 17


@pytest.mark.parametrize("node", ["130nm", "45nm", "22nm", "7nm"])
def test_walden_fom_inside_the_murmann_survey_sar_population(node):
    # SAR designs of the survey span roughly 0.1 fJ to 1 pJ per conversion step.
    for bits in range(3, 9):
        fom = sar(bits, tech=REGISTRY.technology(node)).walden_fom()
        assert 0.1e-15 < fom < 1e-12, (node, bits, fom)


# -- sampling rate -----------------------------------------------------------------------------

def test_slow_sampling_rate_sets_latency_and_keeps_energy():
    free = sar(6)
    fs = 0.5 / free.min_conversion_time()
    slow = sar(6, sampling_rate=fs)
    assert slow.convert().latency == pytest.approx(1 / fs)
    assert slow.conversion_energy() == pytest.approx(free.conversion_energy())


def test_fast_sampling_rate_widens_the_comparator_and_costs_energy():
    free = sar(6)
    fast = sar(6, sampling_rate=1.05 / free.min_conversion_time())
    assert fast.convert().latency < free.convert().latency
    assert fast.comparator_energy() > free.comparator_energy()
    assert fast.conversion_energy() > free.conversion_energy()


def test_unreachable_sampling_rate_is_a_cimgraph_error_naming_the_field():
    free = sar(6)
    with pytest.raises(SarDesignError, match="sampling_rate") as info:
        sar(6, sampling_rate=20 / free.min_conversion_time())
    assert isinstance(info.value, CimgraphError)


@pytest.mark.parametrize("field, value", [("bits", 0), ("bits", 13), ("share", 0), ("unit_cap", -1e-15),
                                          ("scheme", "split"), ("sampling_rate", "fast")])
def test_bad_fields_are_rejected(field, value):
    with pytest.raises((ValueError, CimgraphError)):
        sar(**{"bits": 6, field: value})


def test_fields_carry_units_and_accept_unit_strings():
    units = {f.name: f.metadata.get("unit") for f in attrs.fields(SarADC)}
    assert units["unit_cap"] == "F" and units["sampling_rate"] == "Hz"
    adc = sar(6, unit_cap="0.8fF", sampling_rate="100MHz")
    assert adc.unit_cap == pytest.approx(0.8e-15)
    assert adc.conversion_time() == pytest.approx(10e-9)


# -- report section ----------------------------------------------------------------------------

def _result(path: str = "chip/tile/pe/subarray/adc") -> SimpleNamespace:
    fields = {"bits": 6, "share": 8, "columns": 128, "scheme": "monotonic", "unit_cap": 5e-16, "sampling_rate": None}
    netlist = {"hierarchy": {"path": "chip", "children": [{"path": path, "kind": "adc.sar", "fields": fields}]}}
    component = SimpleNamespace(path=path, kind="adc.sar", instances=10, area=1e-9)
    layer = SimpleNamespace(energy_by_component={path: 2e-9, "chip/buffer": 6e-9})
    return SimpleNamespace(technology="22nm", netlist=netlist, components=(component,), layers=(layer, layer),
                           dynamic_energy=16e-9)


def test_report_section_lists_each_sar_node_through_the_hook():
    rows = sar_rows(_result())
    assert len(rows) == 1
    row = rows[0]
    assert row[0] == "chip/tile/pe/subarray/adc" and row[1] == 6 and row[2] == 160
    assert row[3] == pytest.approx(0.5e-15) and row[8] == 1e-9 and row[9] == pytest.approx(4e-9)
    assert row[-1] == "25.0 %"
    answers = get_plugin_manager().hook.cimgraph_report_sections(result=_result())
    sections = [s for answer in answers if answer for s in answer]
    titles = [s.title for s in sections]
    assert "SAR ADC (cimgraph-sar-adc)" in titles


def test_report_section_is_absent_without_sar():
    result = _result()
    result.components = (SimpleNamespace(path="chip/x", kind="adc.flash", instances=1, area=1.0),)
    assert sar_rows(result) == []
