"""power_gating: idle on a netlist component: a gated block leaks only while it has work (evaluate._powered)."""
from __future__ import annotations

import pytest
import yaml

import cimgraph
from cimgraph.errors import NetlistError
from cimgraph.schedule import evaluate
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network


def conv(name: str, size: int, cin: int = 8, cout: int = 8) -> Layer:
    return Layer(name=name, kind="conv", in_channels=cin, out_channels=cout, kernel=3, stride=1, padding=1,
                 groups=1, input_size=(size, size), pool=1)


NET = Network("two", (conv("c1", 16), conv("c2", 8)))


def netlist(gate: dict[str, str] | None = None) -> dict:
    """The tiny netlist with a write driver (no inference work) at the subarray, ``gate``: component -> mode."""
    raw = tiny_netlist()
    raw["chip"]["tiles"] = "auto"
    sub = raw["chip"]["tile"]["pe"]["subarray"]
    sub["bl_write"] = {"kind": "driver.write", "axis": "rows"}
    for path, mode in (gate or {}).items():
        node = raw["chip"]
        for key in path.split("/")[:-1]:
            node = node[key]
        node[path.split("/")[-1]]["power_gating"] = mode
    return raw


def run(raw: dict, schedule: str = "pipeline"):
    mapping = cimgraph.map_network(cimgraph.load_netlist(raw), NET)
    return mapping, evaluate(mapping, schedule=schedule)


def leak(result, path: str) -> float:
    return next(c.leakage for c in result.components if c.path == path)


@pytest.mark.parametrize("value", ["sometimes", True, 1, "IDLE"])
def test_power_gating_takes_none_or_idle(value):
    raw = netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["bl_write"]["power_gating"] = value
    with pytest.raises(NetlistError, match=r"\$\.chip\.tile\.pe\.subarray\.bl_write\.power_gating: expected one of "
                                           r"none, idle"):
        cimgraph.load_netlist(raw)


def test_misspelt_value_gets_a_suggestion():
    raw = netlist()
    raw["chip"]["relu"]["power_gating"] = "idel"
    with pytest.raises(NetlistError, match=r"\$\.chip\.relu\.power_gating: .*did you mean 'idle'"):
        cimgraph.load_netlist(raw)


def test_a_block_without_inference_work_never_leaks_when_gated():
    """The write driver has no action during inference: gated, it leaks nothing; the rest is unchanged."""
    path = "chip/tile/pe/subarray/bl_write"
    _, always = run(netlist())
    _, gated = run(netlist({"tile/pe/subarray/bl_write": "idle"}))
    assert leak(always, path) > 0 and leak(gated, path) == 0.0
    assert gated.leakage_power == pytest.approx(always.leakage_power - leak(always, path))
    assert gated.dynamic_energy == always.dynamic_energy and gated.period == always.period
    nodes, todo = {}, [cimgraph.load_netlist(netlist({"tile/pe/subarray/bl_write": "idle"})).to_dict()["hierarchy"]]
    while todo:
        node = todo.pop()
        nodes[node["path"]] = node
        todo += node.get("children", [])
    assert nodes[path]["power_gating"] == "idle" and "power_gating" not in nodes["chip/tile/pe/subarray/adc"]


@pytest.mark.parametrize("schedule", ["pipeline", "layer"])
def test_a_gated_tile_block_leaks_on_its_layers_tiles_while_they_work(schedule):
    """ADCs under the tiles: powered on layer i's tiles for layer i's latency, out of the schedule's time."""
    path = "chip/tile/pe/subarray/adc"
    mapping, always = run(netlist(), schedule)
    _, gated = run(netlist({"tile/pe/subarray/adc": "idle"}), schedule)
    tiles = mapping.chip.instances("chip/tile")
    on = sum(p.tiles / tiles * lr.latency for p, lr in zip(mapping.layers, always.layers)) / always.period
    assert 0 < on < 1
    assert leak(gated, path) == pytest.approx(leak(always, path) * on)


def test_a_gated_chip_block_in_use_leaks_the_whole_pipeline_period_but_not_between_layers():
    """The chip's ReLU works in every layer: in the pipeline all stages run at once, so it is always on; layer by
    layer it is on while each layer runs, which is the whole schedule too."""
    path = "chip/relu"
    for schedule in ("pipeline", "layer"):
        _, always = run(netlist(), schedule)
        _, gated = run(netlist({"relu": "idle"}), schedule)
        assert leak(gated, path) == pytest.approx(leak(always, path))


def test_training_counts_gated_blocks_powered():
    """A training chip writes every iteration: its leakage is every block's, gated or not."""
    from test_training_ppa import MLP_V2, SETTINGS

    from cimgraph.schedule.training import evaluate_training

    line = "        shift_add: {kind: shiftadd.bank}\n"
    assert line in MLP_V2
    results = []
    for mode in ("none", "idle"):
        driver = f"        bl_write: {{kind: driver.write, axis: rows, power_gating: {mode}}}\n"
        text = MLP_V2.replace(line, line + driver)
        mapping = cimgraph.map_network(cimgraph.load_netlist(yaml.safe_load(text)),
                                       cimgraph.bundled("mlp"))
        results.append((evaluate(mapping, schedule="layer"), evaluate_training(mapping, settings=SETTINGS)))
    (inf_on, train_on), (inf_gated, train_gated) = results
    assert inf_gated.leakage_power < inf_on.leakage_power
    assert train_gated.leakage_power == pytest.approx(train_on.leakage_power)


def test_arrays_take_no_power_gating():
    """A gated SRAM array would lose its weights: the array kind has no such field, and the error says where."""
    raw = netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["power_gating"] = "idle"
    with pytest.raises(NetlistError, match=r"\$\.chip\.tile\.pe\.subarray\.power_gating: array\.rram has no field"):
        cimgraph.load_netlist(raw)


def test_a_gated_block_of_a_hybrid_chip_is_off_for_the_rest_of_the_whole_pipeline_period():
    """Hybrid chip (NeuroSim's netlist: conv1, fc1, fc2 on a conventional tile design, the slowest layer conv1
    among them): a gated ADC of the novel-mapping design leaks on its layers' tiles while they work, out of the
    whole network's period, not out of that design's own slowest layer."""
    path = "chip/tile/pe/subarray/adc"
    with open("netlists/neurosim_v14_rram_22nm.yaml", encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    net = cimgraph.bundled("vgg8")
    results = []
    for mode in ("none", "idle"):
        raw["chip"]["tile"]["pe"]["subarray"]["adc"]["power_gating"] = mode
        mapping = cimgraph.map_network(cimgraph.load_netlist(raw), net)
        results.append((mapping, evaluate(mapping)))
    (mapping, always), (_, gated) = results
    part = mapping.parts["chip"]
    tiles = part.chip.instances("chip/tile")
    latency = {lr.name: lr.latency for lr in always.layers}
    on = sum(p.tiles / tiles * latency[p.layer.name] for p in part.layers) / always.period
    assert 0 < on < 1 and always.period > 1.1 * max(latency[p.layer.name] for p in part.layers)
    assert leak(gated, path) == pytest.approx(leak(always, path) * on)
