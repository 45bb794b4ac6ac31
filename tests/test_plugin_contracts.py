"""Plugin-contract matrix: each case is a broken third-party plugin installed as a real distribution
(a ``*.dist-info`` with entry points on sys.path, see ``cimgraph.testing.installed_plugin``). In every
case the rest of cimgraph keeps working, and the message names the plugin and what is wrong."""
import json

import pytest
import yaml

from cimgraph.cli import main
from cimgraph.errors import CimgraphError, NetlistError
from cimgraph.mapping import map_network
from cimgraph.netlist import load_netlist
from cimgraph.plugins import default_registry
from cimgraph.schedule import evaluate
from cimgraph.testing import installed_plugin, tiny_netlist
from cimgraph.workload import Layer, Network

DIST = "cimgraph-test-ramp"
NET = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, padding=1,
                          input_size=(8, 8)),))

# A valid plugin: a single-slope (ramp) ADC. Each case below breaks one thing in it.
RAMP = '''
import math
from typing import ClassVar

import attrs

from cimgraph import Component, Cost, hookimpl


@attrs.frozen
class RampADC(Component):
    """Toy single-slope ADC for contract tests (source: this test; valid for nothing else)."""

    kind: ClassVar[str] = "adc.ramp"
    group: ClassVar[str] = "adc"
    source: ClassVar[str] = "tests/test_plugin_contracts.py"
    bits: int = 5
    share: int = 8
    columns: int = 128

    def area(self):
        return 1e-10 * self.columns / self.share

    def leakage(self):
        return 1e-7

    def convert(self):
        return Cost(2**self.bits * 1e-9, 1e-13 * self.columns / self.share)


@hookimpl
def cimgraph_register_components(registry):
    registry.add_component(RampADC)
'''


def ramp_netlist(kind="adc.ramp"):
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"] = {"kind": kind, "bits": 5, "share": 8}
    return raw


def broken(reg):
    return {name: message for name, message in reg.failures}


@pytest.fixture
def plugin(tmp_path):
    """install(source) -> context manager installing the plugin distribution DIST."""
    def install(source, provides=("adc.ramp",)):
        return installed_plugin(tmp_path / "site", DIST, source, version="2.3.4", provides=provides)
    return install


def test_valid_plugin_runs_with_its_distribution_version(plugin, capsys):
    with plugin(RAMP):
        reg = default_registry()
        assert not broken(reg)
        assert reg.components["adc.ramp"].plugin == DIST and reg.plugin_versions[DIST] == "2.3.4"
        result = evaluate(map_network(load_netlist(ramp_netlist()), NET))
        assert result.area > 0 and result.energy_by_group["adc"] > 0
        assert main(["plugins"]) == 0
        line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith(DIST))
        assert "2.3.4" in line and "register_components" in line


CASES = {
    # case: (how the plugin is broken, fragments the BROKEN reason must contain)
    "misspelt hook": (lambda s: s.replace("def cimgraph_register_components", "def cimgraph_register_component"),
                      ["cimgraph_register_component is not a cimgraph hook",
                       "did you mean 'cimgraph_register_components'"]),
    "hook with an argument the spec lacks": (
        lambda s: s.replace("cimgraph_register_components(registry)", "cimgraph_register_components(registry, chip)"),
        ["failed to register", "chip"]),
    "missing action": (lambda s: s.replace("def convert(self)", "def conversion(self)"),
                       ["adc.ramp", "has no convert() method"]),
    "missing field": (lambda s: s.replace("    share: int = 8\n", ""), ["adc.ramp", "has no field share"]),
    "missing area": (lambda s: s.replace("def area(self)", "def footprint(self)"), ["does not implement area()"]),
    "import error": (lambda s: "import cimgraph_does_not_exist\n" + s, ["failed to import", "cimgraph_does_not_exist"]),
    "raises at import": (lambda s: s + "\nraise RuntimeError('boom at import')\n",
                         ["failed to import", "boom at import"]),
    "raises in its hook": (lambda s: s.replace("    registry.add_component(RampADC)",
                                               "    raise KeyError('kaput')"), ["register_components raised", "kaput"]),
    "no source": (lambda s: s.replace('source: ClassVar[str] = "tests/test_plugin_contracts.py"', ""),
                  ["must name its source"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_plugin_is_listed_broken_and_the_rest_works(plugin, case, capsys):
    breakage, fragments = CASES[case]
    with plugin(breakage(RAMP)):
        reg = default_registry()
        reason = broken(reg).get(DIST, "")
        assert all(f in reason for f in fragments), reason
        assert "adc.ramp" not in reg.components  # withdrawn / never registered
        # the rest of cimgraph works: the built-in chip still runs, every listing still prints
        assert evaluate(map_network(load_netlist(tiny_netlist()), NET)).area > 0
        assert main(["plugins"]) == 0 and main(["components", "--kinds"]) == 0
        listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith(DIST)]
        assert len(listed) == 1 and "BROKEN" in listed[0] and fragments[0] in listed[0]
        # a netlist asking for its kind is told that the installed provider is broken
        with pytest.raises(NetlistError) as info:
            load_netlist(ramp_netlist())
        assert f"provided by the plugin package {DIST}, which is installed but BROKEN" in str(info.value)


def test_what_a_plugin_registered_before_failing_is_withdrawn(plugin):
    source = RAMP + '''

@hookimpl
def cimgraph_register_memory_cells(registry):
    from cimgraph.tech.cells import MemoryCell
    registry.add_memory_cell(MemoryCell(name="ramp.cell", family="rram", access="1t1r", area_f2=4, width_f=2,
                                        height_f=2, r_on=1e4, r_off=1e5, source="test"))
'''
    source = source.replace("    registry.add_component(RampADC)", "    raise ValueError('late failure')")
    with plugin(source):
        reg = default_registry()
        assert "late failure" in broken(reg)[DIST]
        assert "ramp.cell" not in reg.memory_cells  # registered by the first hook, withdrawn


def test_override_of_a_builtin_is_withdrawn_with_the_plugin(plugin):
    source = RAMP.replace('"adc.ramp"', '"adc.flash"') + (
        "\n\n@hookimpl\ndef cimgraph_register_memory_cells(registry):\n    raise OSError('disk')\n")
    with plugin(source, provides=()):
        reg = default_registry()
        assert "disk" in broken(reg)[DIST]
        assert reg.components["adc.flash"].plugin == "cimgraph.components.adc"  # the built-in is back


def test_raising_model_is_blamed_on_its_plugin_and_key(plugin):
    with plugin(RAMP.replace("return 1e-10 * self.columns / self.share", "raise ZeroDivisionError('no area')")):
        with pytest.raises(NetlistError) as info:
            load_netlist(ramp_netlist())
        message = str(info.value)
        assert "$.chip.tile.pe.subarray.adc" in message and f"plugin {DIST}" in message and "no area" in message
    with plugin(RAMP.replace("    bits: int = 5\n", "    bits: int = 5\n\n    def __attrs_post_init__(self):\n"
                                                   "        raise RuntimeError('refuses to exist')\n")):
        with pytest.raises(NetlistError) as info:
            load_netlist(ramp_netlist())
        assert f"adc.ramp (plugin {DIST}): refuses to exist" in str(info.value)


@pytest.mark.parametrize("cost", ["Cost(math.nan, 1e-12)", "Cost(1e-9, -1e-12)", "Cost(math.inf, 0.0)", "None"])
def test_nan_or_negative_costs_are_refused_naming_the_plugin(plugin, cost):
    with plugin(RAMP.replace("return Cost(2**self.bits * 1e-9, 1e-13 * self.columns / self.share)",
                             f"return {cost}")):
        chip = load_netlist(ramp_netlist())
        with pytest.raises(CimgraphError) as info:
            evaluate(map_network(chip, NET))
        message = str(info.value)
        assert "adc.ramp" in message and f"plugin {DIST}" in message and "convert()" in message


def test_bad_action_signature_is_rejected_at_registration(plugin):
    source = RAMP.replace('"adc.ramp"', '"switch.ramp"').replace('group: ClassVar[str] = "adc"', "") \
        .replace("def convert(self)", "def drive(self)")  # the scheduler calls drive(input_activity=...)
    with plugin(source, provides=("switch.ramp",)):
        reason = broken(default_registry())[DIST]
        assert "switch.ramp" in reason and "drive() must be callable as drive(input_activity=...)" in reason


def test_shadowing_a_builtin_is_announced_on_run(plugin, tmp_path, capsys):
    with plugin(RAMP.replace('"adc.ramp"', '"adc.flash"'), provides=()):
        netlist = tmp_path / "chip.yaml"
        netlist.write_text(yaml.safe_dump(tiny_netlist()))
        network = tmp_path / "net.csv"
        network.write_text("8,8,8,3,3,8,0,1\n")
        out = tmp_path / "r.json"
        assert main(["run", str(netlist), "--network", str(network), "--json", str(out)]) == 0
        err = capsys.readouterr().err
        assert f"warning: adc.flash is modelled by plugin {DIST} 2.3.4, which overrides the built-in" in err
        warnings = json.loads(out.read_text())["warnings"]
        assert len(warnings) == 1 and DIST in warnings[0]
        html = tmp_path / "r.html"
        assert main(["report", str(out), "-o", str(html)]) == 0
        assert "overrides the built-in" in html.read_text()


def test_unknown_kind_mentions_broken_plugins_that_declare_nothing(plugin):
    with plugin(CASES["missing field"][0](RAMP), provides=()):
        with pytest.raises(NetlistError) as info:
            load_netlist(ramp_netlist())
        assert "unknown component kind 'adc.ramp'" in str(info.value)
        assert f"broken plugins that may provide it: {DIST}" in str(info.value)


def test_missing_plugin_is_named_by_its_package():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["kind"] = "adc.sar"
    reg = default_registry()
    if "adc.sar" in reg.components:  # installed here: pretend it is not
        reg = type(reg)(providers={"adc.sar": ("cimgraph-sar-adc", None)})
        reg.technologies, reg.memory_cells = default_registry().technologies, default_registry().memory_cells
        reg.components = {k: v for k, v in default_registry().components.items() if k != "adc.sar"}
    with pytest.raises(NetlistError) as info:
        load_netlist(raw, registry=reg)
    assert "provided by the plugin package cimgraph-sar-adc, which is not installed" in str(info.value)


ARRAY = '''
from typing import Any, ClassVar

import attrs

from cimgraph import Component, Cost, hookimpl


@attrs.frozen
class BadArray(Component):
    """Toy array whose geometry fails (source: this test)."""

    kind: ClassVar[str] = "array.bad"
    group: ClassVar[str] = "array"
    source: ClassVar[str] = "tests/test_plugin_contracts.py"
    cell: Any = None
    rows: int = 64
    columns: int = 64
    readout: str = "parallel"

    def area(self):
        return 1e-10

    def leakage(self):
        return 0.0

    def width(self):
        raise ArithmeticError("no geometry")

    def height(self):
        return 1e-5

    def read(self, input_activity=0.5, weight_density=0.5):
        return Cost(1e-9, 1e-12)

    def write(self):
        return Cost(1e-8, 1e-11)


@hookimpl
def cimgraph_register_components(registry):
    registry.add_component(BadArray)
'''


def test_array_whose_geometry_raises_is_blamed_on_its_plugin(plugin):
    with plugin(ARRAY, provides=("array.bad",)):
        assert not broken(default_registry())  # it fulfils the contract; it only fails when built
        raw = tiny_netlist()
        raw["chip"]["tile"]["pe"]["subarray"]["kind"] = "array.bad"
        with pytest.raises(NetlistError) as info:
            load_netlist(raw)
        assert f"$.chip.tile.pe.subarray: array.bad (plugin {DIST}): ArithmeticError: no geometry" in str(info.value)


def test_raising_mapping_strategy_is_blamed_on_its_plugin(plugin):
    source = '''
from cimgraph import hookimpl


def broken_strategy(chip, network):
    return 1 / 0


@hookimpl
def cimgraph_register_mapping_strategies(registry):
    registry.add_mapping_strategy("conventional", broken_strategy)
    registry.add_mapping_strategy("weird", lambda chip, network: "not a mapping")
'''
    with plugin(source, provides=()):
        chip = load_netlist(tiny_netlist())
        with pytest.raises(CimgraphError, match=f"mapping strategy 'conventional' \\(plugin {DIST}\\) raised "
                                                "ZeroDivisionError"):
            map_network(chip, NET)
        with pytest.raises(CimgraphError, match="returned str, expected a cimgraph.mapping.Mapping"):
            map_network(chip, NET, method="weird")
        assert default_registry().mapping_strategies["novel"].plugin == "cimgraph.mapping.hooks"  # untouched
