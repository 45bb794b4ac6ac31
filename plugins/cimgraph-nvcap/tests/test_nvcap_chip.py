"""The VGG-8 chip with nvCap subarrays (netlists/vgg8_nvcap_22nm.yaml, which also uses the SAR ADC
plugin) evaluates end to end, and its report shows the plugins' components and sources."""
from __future__ import annotations

from pathlib import Path

import pytest

from cimgraph import bundled, evaluate, load_netlist, map_network

NETLISTS = Path(__file__).resolve().parents[3] / "netlists"


@pytest.fixture(scope="module")
def results():
    network = bundled("vgg8")
    return {name: evaluate(map_network(load_netlist(NETLISTS / f"vgg8_{name}_22nm.yaml"), network))
            for name in ("nvcap", "rram")}


def test_nvcap_chip_evaluates_with_the_plugins_models(results):
    r = results["nvcap"]
    assert r.cell == "nvcap.crossbar"
    kinds = {c.kind: c for c in r.components}
    assert kinds["array.nvcap"].plugin == "cimgraph-nvcap" and "Luo" in kinds["array.nvcap"].source
    assert kinds["adc.sar"].plugin == "cimgraph-sar-adc"
    assert r.energy > 0 and r.latency > 0 and r.area > 0 and r.tops_per_w > 0
    assert all(layer.energy_by_group["array"] > 0 for layer in r.layers)


def test_charge_domain_array_has_no_dc_read_current(results):
    # the nvCap arrays spend C V^2 only: their read takes no conduction time; a 1T1R RRAM array's cells draw a DC
    # current while their column is sensed, so its array energy grows with the cells' conductance
    import inspect

    import yaml

    nvcap = load_netlist(NETLISTS / "vgg8_nvcap_22nm.yaml").subarray
    assert "pulse" not in inspect.signature(nvcap.read).parameters
    raw = yaml.safe_load((NETLISTS / "vgg8_rram_22nm.yaml").read_text())
    raw["cell"] = {"name": "rram.1t1r", "r_on": "20kOhm", "r_off": "200kOhm"}
    low_r = evaluate(map_network(load_netlist(raw), bundled("vgg8")))
    assert low_r.energy_by_group["array"] > 1.5 * results["rram"].energy_by_group["array"]
    assert results["nvcap"].leakage_power < results["rram"].leakage_power


def test_report_shows_plugin_components_sources_and_sar_section(results):
    from cimgraph.report import build_report, render_html

    data = build_report(results["nvcap"])
    html = render_html(data)
    assert "array.nvcap" in html and "adc.sar" in html
    assert "Luo et al., IEDM 2021" in html and "Liu et al., IEEE JSSC 2010" in html
    sar = next(s for s in data.sections if s.title == "SAR ADC (cimgraph-sar-adc)")
    assert not sar.warning and len(sar.rows) == 1 and sar.rows[0][1] == 6
    assert "SAR ADC (cimgraph-sar-adc)" in html


@pytest.mark.parametrize("name, missing, package", [("nvcap", "nvcap.crossbar", "cimgraph-nvcap"),
                                                    ("sar", "adc.sar", "cimgraph-sar-adc")])
def test_without_the_plugins_the_netlist_names_the_missing_kind_and_package(name, missing, package):
    from cimgraph.errors import NetlistError
    from cimgraph.plugins import get_plugin_manager, load_registry

    bare = load_registry(get_plugin_manager(entry_points=False))
    with pytest.raises(NetlistError) as info:
        load_netlist(NETLISTS / f"vgg8_{name}_22nm.yaml", registry=bare)
    assert missing in str(info.value) and package in str(info.value)


def test_accuracy_plugin_runs_the_nvcap_chip_with_capacitive_states():
    from cimgraph.accuracy import simulate_accuracy

    r = simulate_accuracy(netlist=NETLISTS / "vgg8_nvcap_22nm.yaml", batches=2, progress=False, fast=True)
    assert r.chip == "vgg8-nvcap-22nm"
    assert all("on/off 10" in line for line in r.adcs)          # C_on / C_off of nvcap.crossbar
    assert r.cim > 0.8 and r.float - r.cim < 0.1
