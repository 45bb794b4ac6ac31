"""Plugin system: registration, overriding, isolation of broken plugins, CLI listings."""
import importlib.metadata
import sys
import types

import attrs
import pytest

import cimgraph
from cimgraph import Component, Cost, hookimpl
from cimgraph.cli import main
from cimgraph.errors import ComponentNotFound
from cimgraph.plugins import default_registry, get_plugin_manager, load_registry, reset_default_registry
from cimgraph.testing import registry_with


@attrs.frozen
class ToyCounter(Component):
    """A toy ripple counter used only to test registration (source: this test)."""

    kind = "counter.test"
    source = "tests/test_plugins.py"
    bits: int = attrs.field(default=4, metadata={"doc": "counter width"})

    def area(self):
        return 1e-12 * self.bits

    def leakage(self):
        return 1e-9 * self.bits


def make_plugin(register):
    module = types.ModuleType("cimgraph_test_plugin")
    module.cimgraph_register_components = hookimpl(register)
    return module


def test_builtins_registered_through_hooks():
    reg = default_registry()
    assert not reg.failures, reg.failures
    assert reg.components["adc.flash"].plugin.startswith("cimgraph.components")
    assert "22nm" in reg.technologies and "rram.1t1r" in reg.memory_cells


def test_plugin_registered_in_test_appears_and_is_removed(capsys):
    plugin = make_plugin(lambda registry: registry.add_component(ToyCounter))
    with registry_with(plugin) as reg:
        assert reg.component("counter.test") is ToyCounter
        assert reg.components["counter.test"].plugin == "cimgraph_test_plugin"
    assert "counter.test" not in default_registry().components
    with pytest.raises(ComponentNotFound) as info:
        default_registry().component("counter.test")
    assert "cimgraph components" in str(info.value)


def test_plugin_overrides_builtin_and_registry_records_it():
    @attrs.frozen
    class MyFlash(ToyCounter):  # an adc needs bits (ToyCounter's), share and convert() by its role contract
        kind = "adc.flash"
        share: int = 8

        def convert(self):
            return Cost(1e-9, 1e-12)

    plugin = make_plugin(lambda registry: registry.add_component(MyFlash))
    with registry_with(plugin) as reg:
        entry = reg.components["adc.flash"]
        assert entry.value is MyFlash and entry.overrides.startswith("cimgraph.components")


def test_plugin_raising_in_hook_is_reported_rest_works():
    def boom(registry):
        raise RuntimeError("kaput")

    with registry_with(make_plugin(boom)) as reg:
        assert any(name == "cimgraph_test_plugin" and "kaput" in msg for name, msg in reg.failures)
        assert "adc.flash" in reg.components


def test_plugin_failing_on_import_is_reported_by_name(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent / "fixtures"))
    broken = importlib.metadata.EntryPoint(name="broken-plugin", value="broken_plugin", group="cimgraph")
    real = importlib.metadata.entry_points

    def fake_entry_points(**kw):
        found = list(real(**kw))
        return found + [broken] if kw.get("group") == "cimgraph" else found

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    reset_default_registry()
    try:
        reg = load_registry(get_plugin_manager())
        assert any(name == "broken-plugin" and "broken on purpose" in msg for name, msg in reg.failures)
        assert "array.rram" in reg.components
        assert main(["plugins"]) == 0
        out = capsys.readouterr().out
        assert "broken-plugin" in out and "BROKEN" in out
    finally:
        reset_default_registry()
        sys.modules.pop("broken_plugin", None)


def test_invalid_component_class_is_a_plugin_failure():
    class NotAttrs(Component):
        kind = "thing.bad"
        source = "x"

    with registry_with(make_plugin(lambda registry: registry.add_component(NotAttrs))) as reg:
        assert any("attrs class" in msg for _, msg in reg.failures)


def test_cli_plugins_and_components_list_everything(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "cimgraph.components.adc" in out and "register_components" in out
    assert main(["components", "--all"]) == 0
    out = capsys.readouterr().out
    for kind in ("array.rram", "array.sram", "adc.flash", "mux.column", "decoder.wl", "switch.wl", "shiftadd.bank",
                 "adder.tree", "buffer.sram", "link.htree", "link.bus", "pool.max", "activation.relu"):
        assert f"  {kind}  (" in out, kind
    assert "22nm" in out and "rram.1t1r" in out and "source:" in out
    assert "bits = 5" in out or "bits = " in out


def test_cost_arithmetic():
    a, b = Cost(1e-9, 2e-12), Cost(3e-9, 1e-12)
    assert (a + b) == Cost(4e-9, 3e-12)
    assert (a * 2) == Cost(2e-9, 4e-12) == 2 * a
    assert a.parallel(b) == Cost(3e-9, 3e-12)
    assert cimgraph.Cost is Cost


@attrs.frozen
class BrokenADC(Component):
    """An ADC whose models break, to check the core names the plugin instead of crashing."""

    kind = "adc.broken"
    source = "tests/test_plugins.py"
    bits: int = 5
    share: int = 8
    broken_area: bool = False

    def area(self):
        if self.broken_area:
            raise ZeroDivisionError("area model divides by zero")
        return 1e-10

    def leakage(self):
        return 0.0

    def convert(self):
        return Cost(float("nan"), 1e-15)


def test_broken_plugin_models_are_reported_with_the_plugin_name():
    from cimgraph import evaluate, load_netlist, map_network
    from cimgraph.errors import NetlistError, PluginError
    from cimgraph.testing import tiny_netlist
    from cimgraph.workload import Layer, Network

    plugin = make_plugin(lambda registry: registry.add_component(BrokenADC))
    net = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, stride=1, padding=1,
                              groups=1, input_size=(8, 8), pool=1),))
    with registry_with(plugin) as reg:
        raw = tiny_netlist()
        raw["chip"]["tile"]["pe"]["subarray"]["adc"] = {"kind": "adc.broken", "broken_area": True}
        with pytest.raises(NetlistError) as info:
            load_netlist(raw, registry=reg)
        assert "cimgraph_test_plugin" in str(info.value) and "ZeroDivisionError" in str(info.value)
        raw["chip"]["tile"]["pe"]["subarray"]["adc"] = {"kind": "adc.broken"}
        mapping = map_network(load_netlist(raw, registry=reg), net)
        with pytest.raises(PluginError) as info:
            evaluate(mapping)
        assert "chip/tile/pe/subarray/adc" in str(info.value) and "cimgraph_test_plugin" in str(info.value)
