"""HTML report: data built from a Result, deterministic rendering, escaping, plugin sections, CLI."""
from __future__ import annotations

import argparse
import json
import re

import matplotlib
import pytest
from matplotlib.figure import Figure

import cimgraph
from cimgraph.errors import CimgraphError
from cimgraph.hookspecs import hookimpl
from cimgraph.plugins import get_plugin_manager
from cimgraph.report import (Section, build_report, collect_sections, render_comparison, render_report,
                             report_command, write_report)
from cimgraph.report import figures
from cimgraph.report.render import cell, comparison_tables
from cimgraph.schedule.result import ComponentResult, LayerResult, Result

GROUPS = ("array", "adc", "accumulation", "buffer", "interconnect", "peripheral")


def _node(name, path, level, count, kind=None, fields=None, children=None):
    node = {"name": name, "path": path, "level": level, "count": count}
    if kind:
        node.update(kind=kind, plugin="test", fields=fields or {})
    if children:
        node["children"] = children
    return node


def make_result(chip: str = "demo-chip", tile: str = "tile", scale: float = 1.0) -> Result:
    """A small hand-built Result: 12 tiles, 4 layers taking 1, 2, 3 and 4 tiles."""
    comps = [
        ComponentResult("chip/buffer", "buffer.sram", "buffer", "cimgraph.components.buffer", "0.1.0", "CACTI 6.5",
                        1, 1, 2e-7 * scale, 1e-4),
        ComponentResult("chip/htree", "link.htree", "interconnect", "cimgraph.components.link", "0.1.0", "H-tree",
                        1, 1, 1e-7, 2e-5),
        ComponentResult(f"chip/{tile}/pe/subarray", "array.rram", "array", "cimgraph.components.array", "0.1.0",
                        "NeuroSim V2 sec. 5.1", 16, 768, 8e-7, 1e-5),
        ComponentResult(f"chip/{tile}/pe/subarray/adc", "adc.flash", "adc", "cimgraph.components.adc", "0.1.0",
                        "NeuroSim V2 sec. 5.4", 1, 768, 6e-7, 3e-4),
        ComponentResult(f"chip/{tile}/pe/adder", "adder.tree", "accumulation", "cimgraph.components.digital", "0.1.0",
                        "NeuroSim V2 sec. 5.5", 1, 48, 5e-8, 1e-6),
    ]
    layers = []
    for i in range(4):
        lat = {g: (i + 1) * 1e-7 * (k + 1) for k, g in enumerate(GROUPS)}
        en = {g: (i + 1) * 1e-9 * (6 - k) for k, g in enumerate(GROUPS)}
        layers.append(LayerResult(
            f"conv{i + 1}" if i < 3 else "fc1", "conv" if i < 3 else "fc", 10_000_000 * (i + 1), i + 1, 4, 16,
            2 if i < 2 else 1, 0.8 - 0.1 * i, sum(lat.values()), sum(en.values()), lat, en,
            {c.path: en[c.group] for c in comps}, 0.5, 0.5))
    sub = _node("subarray", f"chip/{tile}/pe/subarray", "subarray", 16, "array.rram",
                {"rows": 128, "columns": 128, "readout": "parallel"},
                [_node("adc", f"chip/{tile}/pe/subarray/adc", "component", 1, "adc.flash", {"bits": 5})])
    pe = _node("pe", f"chip/{tile}/pe", "pe", 4, children=[
        _node("adder", f"chip/{tile}/pe/adder", "component", 1, "adder.tree", {"copies": 16}), sub])
    hierarchy = _node("chip", "chip", "chip", 1, children=[
        _node("buffer", "chip/buffer", "component", 1, "buffer.sram", {"size": 524288}),
        _node("htree", "chip/htree", "component", 1, "link.htree", {"width": 512}),
        _node(tile, f"chip/{tile}", "tile", 12, children=[pe])])
    netlist = {"name": chip, "technology": "22nm", "cell": "rram.1t1r", "precision": {"weight": 8, "input": 8},
               "mapping": {"method": "novel", "duplication": True}, "clock": 1e9, "hierarchy": hierarchy}
    area = sum(c.area for c in comps)
    dynamic = sum(l.energy for l in layers)
    return Result(
        chip=chip, network="vgg8", technology="22nm", cell="rram.1t1r", schedule="pipeline", method="novel",
        area=area, area_by_group={g: sum(c.area for c in comps if c.group == g) for g in GROUPS},
        components=tuple(comps), layers=tuple(layers), latency=sum(l.latency for l in layers),
        period=max(l.latency for l in layers), dynamic_energy=dynamic, leakage_power=4e-4, leakage_energy=4e-10,
        energy=dynamic + 4e-10, macs=100_000_000, tops=10.0, tops_per_w=25.0, tops_per_mm2=5.0, fps=1e5,
        peak_latency=1e-6, peak_energy=1e-7, peak_tops=40.0, peak_tops_per_w=80.0, utilization=0.7,
        latency_by_group={g: sum(l.latency_by_group[g] for l in layers) for g in GROUPS},
        energy_by_group={g: sum(l.energy_by_group[g] for l in layers) for g in GROUPS}, netlist=netlist)


def bare_pm():
    """A plugin manager with the built-ins only (no installed entry points)."""
    return get_plugin_manager(entry_points=False)


# -- data ----------------------------------------------------------------------------------------

def test_report_data_tables_and_floorplan():
    r = make_result()
    data = build_report(r, pm=bare_pm())
    assert data.chip_tiles == 12
    held = [t.layer for t in data.floorplan]
    assert held == ["conv1", "conv2", "conv2", "conv3", "conv3", "conv3", "fc1", "fc1", "fc1", "fc1", "", ""]
    shares = {row[0]: row[2] for row in data.group_table.rows}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["array"] == pytest.approx(8e-7 / r.area)
    assert [row[0] for row in data.layers.rows] == ["conv1", "conv2", "conv3", "fc1"]
    assert data.layer_latency["adc"] == pytest.approx((2e-7, 4e-7, 6e-7, 8e-7))
    energy = {row[0]: row[8] for row in data.components.rows}
    assert energy["chip/buffer"] == pytest.approx(sum(l.energy_by_group["buffer"] for l in r.layers))
    models = {row[0]: row[1:] for row in data.models.rows}
    assert models["chip/tile/pe/subarray/adc"] == ("adc.flash", "cimgraph.components.adc", "0.1.0",
                                                    "NeuroSim V2 sec. 5.4")
    assert json.loads(data.to_json())["floorplan"][0]["layer"] == "conv1"


def test_cell_formatting_and_sort_keys():
    assert cell(2.2e-8, "m") == ("22 nm", repr(2.2e-8))
    assert cell(0.5, "%")[0] == "50.0 %"
    assert cell(8e-7, "m^2")[0] == "0.8 mm^2"
    assert cell(3.2e-6, "m^2")[0] == "3.2 mm^2"
    assert cell(25.0, "TOPS/W")[0] == "25 TOPS/W"
    assert cell(100000.0, "FPS")[0] == "100,000 FPS"
    assert cell(1234567, "")[0] == "1,234,567"
    assert cell(None, "s") == ("-", None)
    assert cell("conv1", "") == ("conv1", None)
    # pre-formatted plugin strings still sort by value (areas by the squared prefix)
    assert float(cell("1.2 pJ")[1]) == pytest.approx(1.2e-12)
    assert float(cell("3 mm^2")[1]) == pytest.approx(3e-6)
    assert float(cell("900 um^2")[1]) < float(cell("0.5 mm^2")[1])


def test_section_validation_and_dicts():
    with pytest.raises(CimgraphError, match="row 0 has 1 cells, expected 2"):
        Section("t", ("a", "b"), [[1]])
    with pytest.raises(CimgraphError, match="units for"):
        Section("t", ("a", "b"), [[1, 2]], units=("s",))
    s = Section.coerce({"title": "x", "columns": ["a"], "rows": [[1.0]], "note": "n"})
    assert s == Section("x", ("a",), ((1.0,),), note="n")
    with pytest.raises(CimgraphError, match="needs keys title, columns"):
        Section.coerce({"title": "x", "colums": ["a"]})


# -- rendering -----------------------------------------------------------------------------------

def test_same_result_renders_byte_identical_html(tmp_path):
    pm = bare_pm()
    first = render_report(make_result(), tmp_path / "a.html", pm=pm)
    second = render_report(make_result(), tmp_path / "b.html", pm=pm)
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert first == second
    other = render_report(make_result(scale=2.0), None, pm=pm)
    assert other != first  # a different design really renders differently


def test_html_is_self_contained_with_unique_ids():
    html = render_report(make_result(), pm=bare_pm())
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 6  # chip, floorplan, area, latency, energy, efficiency
    assert not re.search(r'(?:src|href)\s*=\s*"(?!#|data:)', html), "no external resources"
    assert "<link rel=\"stylesheet\"" not in html and "@import" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'class="sortable"' in html and "addEventListener" in html
    for label in ("25 TOPS/W", "1.75 mm^2", "conv3", "adc.flash", "NeuroSim V2 sec. 5.4", "12 per chip"):
        assert label in html


def test_names_with_script_and_ampersand_render_as_text():
    evil = "t<script>alert(1)</script>&co"
    html = render_report(make_result(chip="<b>chip</b> & co", tile=evil), pm=bare_pm())
    assert "<script>alert(1)" not in html
    assert "<b>chip</b>" not in html
    assert "&lt;b&gt;chip&lt;/b&gt; &amp; co" in html
    assert "t&lt;script&gt;alert(1)&lt;/script&gt;&amp;co" in html  # table cells and SVG text
    assert html.count("<script") == 2  # the JSON data block and the sort script only


def test_figures_are_pure_figures_with_deterministic_svg():
    data = build_report(make_result(), pm=bare_pm())
    made = [figures.chip_figure(data.hierarchy, data.component_groups, "x"),
            figures.floorplan_figure(data.floorplan, data.chip_tiles), figures.area_figure(data.area_by_group),
            figures.stacked_layers_figure(data.layer_names, data.layer_energy, "J", "e"),
            figures.efficiency_figure(data.efficiency),
            figures.compare_figure(("a", "b"), data.area_by_group, data.area_by_group, "m^2", "c")]
    assert all(isinstance(f, Figure) for f in made)
    svg = figures.to_svg(made[0], "p")
    with matplotlib.rc_context({"font.family": "serif", "font.size": 20}):  # caller's settings do not leak in
        again = figures.chip_figure(data.hierarchy, data.component_groups, "x")
    assert svg == figures.to_svg(again, "p")
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert all(i.startswith("p-") for i in re.findall(r'\bid="([^"]+)"', svg))
    assert figures.scale([2e-9, 5e-10], "s") == (1e9, "ns")
    assert figures.scale([3e-6], "m^2") == (1e6, "mm²")


def test_comparison_ratios(tmp_path):
    a, b = make_result("design-a"), make_result("design-b", scale=3.0)
    tables = comparison_tables(a, b, GROUPS)
    merit = {row[0]: row for row in tables[0].rows}
    assert merit["chip area"][3] == pytest.approx(b.area / a.area)
    assert merit["energy efficiency"][3] == pytest.approx(1.0)
    groups = {row[0]: row[3] for row in tables[1].rows}
    assert groups["buffer area"] == pytest.approx(3.0)
    assert groups["array area"] == pytest.approx(1.0)
    assert [row[0] for row in tables[2].rows] == ["conv1", "conv2", "conv3", "fc1"]
    html = render_comparison([a, b], tmp_path / "c.html", pm=bare_pm())
    assert "design-a" in html and "design-b" in html and "ratio (b/a)" in html
    assert html == render_report([a, b], pm=bare_pm())
    with pytest.raises(CimgraphError, match="exactly two"):
        render_comparison([a], pm=bare_pm())


# -- plugin sections ---------------------------------------------------------------------------------

class GoodPlugin:
    @hookimpl
    def cimgraph_report_sections(self, result):
        return [Section("Plugin table", ("node", "energy"), [["x", 2e-12]], units=("", "J"), note="from a plugin"),
                {"title": "Dict table", "columns": ["chip"], "rows": [[result.chip]]}]


class BrokenPlugin:
    @hookimpl
    def cimgraph_report_sections(self, result):
        raise RuntimeError("exploded on purpose")


class MalformedPlugin:
    @hookimpl
    def cimgraph_report_sections(self, result):
        return [{"title": "no columns"}]


def test_plugin_sections_and_failures_are_shown():
    pm = bare_pm()
    pm.register(GoodPlugin(), name="good-plugin")
    pm.register(BrokenPlugin(), name="broken-plugin")
    pm.register(MalformedPlugin(), name="malformed-plugin")
    sections, _ = collect_sections(make_result(), pm)
    titles = [s.title for s in sections]
    assert "Plugin table" in titles and "Dict table" in titles
    broken = [s for s in sections if s.warning]
    assert sorted(s.rows[0][0] for s in broken) == ["broken-plugin", "malformed-plugin"]
    assert any("exploded on purpose" in s.rows[0][1] for s in broken)
    html = render_report(make_result(), pm=pm)
    assert "Plugin table" in html and "2 pJ" in html and "Plugin broken-plugin: section failed" in html
    assert "demo-chip" in html


# -- command line ------------------------------------------------------------------------------------

def test_report_command_one_two_and_bad_files(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    make_result("chip-a").to_json(a)
    make_result("chip-b", scale=2.0).to_json(b)
    out = tmp_path / "out" / "r.html"
    message = report_command(argparse.Namespace(results=[str(a)], output=str(out)))
    assert message.startswith(f"wrote {out}") and "chip-a" in message and "\n" not in message
    assert "chip-a" in out.read_text(encoding="utf-8")
    message = report_command(argparse.Namespace(results=[str(a), str(b)], output=str(tmp_path / "c.html")))
    assert "chip-a vs chip-b" in message
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CimgraphError, match="bad.json"):
        report_command(argparse.Namespace(results=[str(bad)], output=str(tmp_path / "x.html")))
    with pytest.raises(CimgraphError, match="one result JSON"):
        report_command(argparse.Namespace(results=[str(a)] * 3, output=str(tmp_path / "x.html")))
    assert write_report(Result.from_json(a), tmp_path / "w.html") == str(tmp_path / "w.html")


# -- a real evaluation ---------------------------------------------------------------------------------

def test_real_vgg8_evaluation_renders(tmp_path):
    chip = cimgraph.load_netlist("netlists/vgg8_rram_22nm.yaml")
    result = cimgraph.evaluate(cimgraph.map_network(chip, cimgraph.bundled("vgg8")))
    html = write_report(result, tmp_path / "vgg8.html")
    text = (tmp_path / "vgg8.html").read_text(encoding="utf-8")
    assert html == str(tmp_path / "vgg8.html")
    assert all(layer.name in text for layer in result.layers)
    assert cimgraph.format_si(result.area, "m^2", 4) in text
    assert all(c.path in text for c in result.components)
    data = build_report(result, pm=bare_pm())
    assert len(data.floorplan) >= data.chip_tiles
    assert sum(data.area_by_group.values()) == pytest.approx(result.area, rel=1e-9)


def test_report_shows_the_cell_parameters_as_evaluated_with_overrides():
    from cimgraph.testing import tiny_netlist
    from cimgraph.workload import Layer, Network

    raw = tiny_netlist()
    raw["cell"] = {"name": "rram.1t1r", "r_on": "12.5kOhm"}
    net = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, stride=1, padding=1,
                              groups=1, input_size=(8, 8), pool=1),))
    result = cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(raw), net))
    table = build_report(result).technology_table
    rows = {row[0]: row[1] for row in table.rows}
    assert rows["cell.r_on"] == pytest.approx(12.5e3) and "technology.vdd" in rows
    assert "overridden in the netlist: r_on" in table.note
    html = render_report(result, None)
    assert "12.5 kOhm" in html
