"""Scheduler and evaluation: invariants that could fail, JSON/CSV round trips, the CLI."""
import csv
import json

import numpy as np
import pytest

import cimgraph
from cimgraph.cli import main
from cimgraph.errors import CimgraphError
from cimgraph.schedule import Activity, Result, evaluate
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network

RRAM = "netlists/vgg8_rram_22nm.yaml"


@pytest.fixture(scope="module")
def vgg8_mapping():
    return cimgraph.map_network(cimgraph.load_netlist(RRAM), cimgraph.bundled("vgg8"))


@pytest.fixture(scope="module")
def vgg8(vgg8_mapping):
    return evaluate(vgg8_mapping)


def conv(name, size=16, cin=8, cout=8):
    return Layer(name=name, kind="conv", in_channels=cin, out_channels=cout, kernel=3, stride=1, padding=1,
                 groups=1, input_size=(size, size), pool=1)


def test_components_sum_to_totals(vgg8):
    for layer in vgg8.layers:
        assert sum(layer.energy_by_component.values()) == pytest.approx(layer.energy, rel=1e-9)
        assert sum(layer.energy_by_group.values()) == pytest.approx(layer.energy, rel=1e-9)
        assert sum(layer.latency_by_group.values()) == pytest.approx(layer.latency, rel=1e-9)
    assert sum(layer.energy for layer in vgg8.layers) == pytest.approx(vgg8.dynamic_energy, rel=1e-9)
    assert sum(vgg8.area_by_group.values()) == pytest.approx(vgg8.area, rel=1e-9)
    assert sum(c.area for c in vgg8.components) == pytest.approx(vgg8.area, rel=1e-9)
    assert vgg8.energy == pytest.approx(vgg8.dynamic_energy + vgg8.leakage_energy)


def test_figures_positive_and_consistent(vgg8):
    assert vgg8.macs == sum(layer.macs for layer in vgg8.layers) > 0
    for value in (vgg8.area, vgg8.latency, vgg8.energy, vgg8.leakage_power, vgg8.tops, vgg8.tops_per_w, vgg8.fps):
        assert np.isfinite(value) and value > 0
    assert vgg8.tops_per_w == pytest.approx(2 * vgg8.macs / vgg8.energy / 1e12)
    assert vgg8.peak_tops_per_w >= vgg8.tops_per_w
    assert vgg8.peak_latency <= vgg8.latency
    assert all(layer.energy_by_group["array"] > 0 and layer.energy_by_group["adc"] > 0 for layer in vgg8.layers)


def test_pipeline_throughput_not_below_layer_by_layer(vgg8_mapping):
    pipe, layer = evaluate(vgg8_mapping, schedule="pipeline"), evaluate(vgg8_mapping, schedule="layer")
    assert pipe.fps >= layer.fps
    assert pipe.latency == pytest.approx(layer.latency)
    assert pipe.dynamic_energy == pytest.approx(layer.dynamic_energy)
    assert pipe.leakage_energy < layer.leakage_energy  # idle stages leak for one period, not the whole run


def test_energy_grows_with_input_density(vgg8_mapping):
    n = len(vgg8_mapping.layers)
    energies = [evaluate(vgg8_mapping, activity=Activity.uniform(n, a)).dynamic_energy for a in (0.1, 0.3, 0.6, 0.9)]
    assert all(b > a for a, b in zip(energies, energies[1:]))


def test_leakage_energy_grows_with_run_time():
    raw_fast, raw_slow = tiny_netlist(), tiny_netlist()
    raw_slow["clock"] = "100MHz"
    net = Network("two", (conv("c1"), conv("c2")))
    fast = evaluate(cimgraph.map_network(cimgraph.load_netlist(raw_fast), net), schedule="layer")
    slow = evaluate(cimgraph.map_network(cimgraph.load_netlist(raw_slow), net), schedule="layer")
    assert slow.latency > fast.latency
    assert slow.leakage_power == pytest.approx(fast.leakage_power, rel=1e-6)
    assert slow.leakage_energy > fast.leakage_energy
    assert slow.leakage_energy / fast.leakage_energy == pytest.approx(slow.latency / fast.latency, rel=1e-6)


def test_two_identical_tiles_doing_the_same_work_cost_twice_one():
    raw = tiny_netlist()
    chip = cimgraph.load_netlist(raw)
    one = evaluate(cimgraph.map_network(chip, Network("one", (conv("a"),))))
    two = evaluate(cimgraph.map_network(chip, Network("two", (conv("a"), conv("b")))))
    assert two.layers[0].tiles == two.layers[1].tiles == one.layers[0].tiles
    assert two.dynamic_energy == pytest.approx(2 * one.dynamic_energy, rel=1e-9)
    assert two.latency == pytest.approx(2 * one.latency, rel=1e-9)


def test_more_adc_bits_cost_more_energy():
    energies = []
    for bits in (3, 4, 5, 6, 7):
        raw = tiny_netlist()
        raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = bits
        chip = cimgraph.load_netlist(raw)
        energies.append(evaluate(cimgraph.map_network(chip, Network("n", (conv("a"),)))).energy_by_group["adc"])
    assert all(b > a for a, b in zip(energies, energies[1:]))


def test_json_round_trip(vgg8, tmp_path):
    path = tmp_path / "r.json"
    vgg8.to_json(path)
    back = Result.from_json(path)
    assert back == vgg8
    assert json.loads(path.read_text())["chip"] == "vgg8-rram-22nm"


def test_bad_result_json_is_clear(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"chip": 1}')
    with pytest.raises(CimgraphError) as info:
        Result.from_json(path)
    assert str(path) in str(info.value)


def test_activity_validation(vgg8_mapping):
    with pytest.raises(CimgraphError):
        evaluate(vgg8_mapping, activity=Activity.uniform(3, 0.5))
    with pytest.raises(CimgraphError):
        evaluate(vgg8_mapping, activity=Activity.uniform(len(vgg8_mapping.layers), 1.5))
    with pytest.raises(CimgraphError):
        evaluate(vgg8_mapping, schedule="warp")


def test_cli_run_writes_json_and_csv(tmp_path, capsys):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "csv"
    assert main(["run", RRAM, "--network", "vgg8", "--json", str(out_json), "--csv", str(out_csv)]) == 0
    text = capsys.readouterr().out
    for needle in ("Chip area", "TOPS/W", "FPS", "Leakage power", "ADC / sense amplifiers"):
        assert needle in text
    data = json.loads(out_json.read_text())
    with open(out_csv / "layers.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(data["layers"]) == 8
    assert float(rows[0]["energy_J"]) == pytest.approx(data["layers"][0]["energy"])


def test_cli_run_bad_network_exit_2(capsys):
    assert main(["run", RRAM, "--network", "vgg9"]) == 2
    assert "vgg8" in capsys.readouterr().err


def test_column_conduction_and_array_energy_hand_count():
    """Array energy of one layer = bit-cycles x read(pulse = mux + ADC latency) energy: each column's cells
    conduct while that column is sensed, not for the whole sense window of the shared ADC's ``share`` columns."""
    from cimgraph.schedule.activity import DEFAULT_INPUT_ACTIVITY, DEFAULT_WEIGHT_DENSITY
    from cimgraph.schedule.counts import sensing_step

    chip = cimgraph.load_netlist(tiny_netlist())
    layer = conv("a")
    mapping = cimgraph.map_network(chip, Network("one", (layer,)))
    chip = mapping.chip
    adc, mux = chip.find("adc"), chip.find("mux")
    assert adc.share > 1
    step = sensing_step(chip)
    assert step == pytest.approx(adc.convert().latency + mux.select().latency)
    placement = mapping.layers[0]
    bit_cycles = placement.row_blocks * placement.column_blocks * layer.input_vectors * chip.spec.precision.input
    expected = bit_cycles * chip.subarray.read(input_activity=DEFAULT_INPUT_ACTIVITY,
                                               weight_density=DEFAULT_WEIGHT_DENSITY, pulse=step).energy
    result = evaluate(mapping)
    assert result.layers[0].energy_by_component["chip/tile/pe/subarray"] == pytest.approx(expected, rel=1e-12)
    expected_adc = bit_cycles * adc.share * adc.convert().energy
    assert result.layers[0].energy_by_component["chip/tile/pe/subarray/adc"] == pytest.approx(expected_adc, rel=1e-12)


def test_activity_measured_from_torch_traces():
    import torch
    from cimgraph.schedule.activity import from_torch
    from cimgraph.workload import from_torch as import_torch
    from cimgraph.workload.torch_models import VGG8

    torch.manual_seed(0)
    model = VGG8()
    mapping = cimgraph.map_network(cimgraph.load_netlist(RRAM), import_torch(model, (1, 3, 32, 32)))
    sparse = from_torch(model, torch.rand(2, 3, 32, 32) * (torch.rand(2, 3, 32, 32) > 0.8), mapping)
    dense = from_torch(model, torch.rand(2, 3, 32, 32), mapping)
    assert sparse.input.shape == (8,) and np.all((0 <= sparse.input) & (sparse.input <= 1))
    assert np.all((0 < dense.weight) & (dense.weight < 1))
    assert sparse.input[0] < dense.input[0]
    assert evaluate(mapping, activity=sparse).dynamic_energy < evaluate(mapping, activity=dense).dynamic_energy


def test_residual_add_costs_chip_adder_buffer_and_link():
    import attrs as _attrs

    chip = cimgraph.load_netlist(tiny_netlist())
    plain = Network("n", (conv("a"),))
    skip = Network("n", (_attrs.evolve(conv("a"), residual=True),))
    r0 = evaluate(cimgraph.map_network(chip, plain))
    r1 = evaluate(cimgraph.map_network(chip, skip))
    for path in ("chip/accumulation", "chip/buffer", "chip/htree"):
        assert r1.layers[0].energy_by_component[path] > r0.layers[0].energy_by_component[path], path
    assert r1.layers[0].energy_by_component["chip/tile/pe/subarray"] == r0.layers[0].energy_by_component[
        "chip/tile/pe/subarray"]
    # one adder of the chip tree per output value: (children - 1) residual layers cost one full tree pass
    model = cimgraph.map_network(chip, skip).chip.model("chip/accumulation")
    extra = r1.layers[0].energy_by_component["chip/accumulation"] - r0.layers[0].energy_by_component["chip/accumulation"]
    layer = skip.layers[0]
    expected = layer.input_vectors * layer.out_channels / model.copies / (model.children - 1) * model.add().energy
    assert extra == pytest.approx(expected, rel=1e-9)


def test_depthwise_layer_streams_all_input_channels():
    """A depthwise layer's inputs are every channel (groups x its per-group rows), not one group's."""
    chip = cimgraph.load_netlist(tiny_netlist())
    dw = Layer(name="dw", kind="conv", in_channels=16, out_channels=16, kernel=3, stride=1, padding=1, groups=16,
               input_size=(8, 8), pool=1)
    mapping = cimgraph.map_network(chip, Network("n", (dw,)))
    placement = mapping.layers[0]
    assert placement.input_rows == 16 * 9
    from cimgraph.schedule.counts import layer_work

    work = layer_work(mapping)
    assert work.stream_bits[0] == dw.input_vectors * 16 * 9 * chip.spec.precision.input
    assert evaluate(mapping).layers[0].energy > 0


def test_spice_adc_energy_uses_the_layer_activity():
    """An ADC action that takes the activity (adc.flash, characterisation neurosim_spice) gets each layer's input
    activity and weight density from the scheduler: its energy is bit-cycles x share x convert(a, w)."""
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["characterisation"] = "neurosim_spice"
    chip = cimgraph.load_netlist(raw)
    layer = conv("a")
    mapping = cimgraph.map_network(chip, Network("one", (layer,)))
    adc = mapping.chip.find("adc")
    placement = mapping.layers[0]
    bit_cycles = placement.row_blocks * placement.column_blocks * layer.input_vectors * chip.spec.precision.input
    booked = []
    for a in (0.2, 0.8):
        result = evaluate(mapping, activity=Activity.uniform(1, a, 0.4))
        expected = bit_cycles * adc.share * adc.convert(a, 0.4).energy
        booked.append(result.layers[0].energy_by_component["chip/tile/pe/subarray/adc"])
        assert booked[-1] == pytest.approx(expected, rel=1e-12)
    assert booked[0] != booked[1]


def _one_way_pe_buses(raw, both="bus"):
    """``raw`` with the PE's two-way bus split into an input-only and an output-only one of the same size."""
    pe = raw["chip"]["tile"]["pe"]
    link = pe.pop(both)
    pe["bus_in"] = {**link, "carries": "input"}
    pe["bus_out"] = {**link, "carries": "output"}
    return raw


def test_a_link_is_booked_only_with_the_data_it_carries():
    from cimgraph.schedule.counts import action_counts

    network = Network("n", (conv("a"), conv("b", size=8)))
    two_way = cimgraph.map_network(cimgraph.load_netlist(tiny_netlist()), network)
    one_way = cimgraph.map_network(cimgraph.load_netlist(_one_way_pe_buses(tiny_netlist())), network)
    booked = {(ac.path, ac.data): ac.count for ac in action_counts(two_way) if ac.action == "transfer"}
    split = {(ac.path, ac.data): ac.count for ac in action_counts(one_way) if ac.action == "transfer"}
    pe = "chip/tile/pe/"
    assert {k for k in split if k[0].startswith(pe)} == {(pe + "bus_in", "input"), (pe + "bus_out", "output")}
    np.testing.assert_array_equal(split[(pe + "bus_in", "input")], booked[(pe + "bus", "input")])
    np.testing.assert_array_equal(split[(pe + "bus_out", "output")], booked[(pe + "bus", "output")])
    # the same wires, so the two one-way buses cost exactly what the two-way one did, layer by layer
    r2, r1 = evaluate(two_way), evaluate(one_way)
    for l2, l1 in zip(r2.layers, r1.layers):
        both = l2.energy_by_component[pe + "bus"]
        assert l1.energy_by_component[pe + "bus_in"] + l1.energy_by_component[pe + "bus_out"] == pytest.approx(
            both, rel=1e-12)
        assert 0 < l1.energy_by_component[pe + "bus_in"] < both and 0 < l1.energy_by_component[pe + "bus_out"] < both


def test_a_level_without_a_link_for_one_direction_is_a_reported_assumption():
    from cimgraph.schedule.run import assumption_warnings

    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["bus"]["carries"] = "input"
    assert assumption_warnings(cimgraph.load_netlist(raw)) == [
        "$.chip.tile.pe has no link.* carrying outputs: moving results up from its 4 subarrays is assumed free"]
    assert assumption_warnings(cimgraph.load_netlist(_one_way_pe_buses(tiny_netlist()))) == []


@pytest.mark.parametrize("key, value, expected", [
    ("carries", "down", "$.chip.tile.pe.bus.carries: expected one of 'both', 'input', 'output', got 'down'"),
    ("along", "diagonal", "$.chip.tile.pe.bus.along: expected one of 'line', 'rows', 'columns', got 'diagonal'"),
])
def test_bad_link_direction_names_its_key_path(key, value, expected):
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["bus"][key] = value
    with pytest.raises(CimgraphError) as info:
        cimgraph.load_netlist(raw)
    assert expected in str(info.value)


def test_hybrid_movement_between_designs_honours_what_a_link_carries():
    from cimgraph.schedule.hybrid import _movement, _movers

    raw = tiny_netlist()
    raw["chip"]["htree"]["carries"] = "input"
    chip = cimgraph.load_netlist(raw)
    transfer = chip.model("chip/htree").transfer()
    latency, energy, _ = _movement(_movers(chip), 2560.0, 512.0)["chip/htree"]
    assert (latency, energy) == pytest.approx((10 * transfer.latency, 10 * transfer.energy), rel=1e-12)
    raw["chip"]["htree"]["carries"] = "both"
    _, both, _ = _movement(_movers(cimgraph.load_netlist(raw)), 2560.0, 512.0)["chip/htree"]
    assert both == pytest.approx(12 * transfer.energy, rel=1e-12)
