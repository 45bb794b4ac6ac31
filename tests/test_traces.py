"""Activity from DNN+NeuroSim trace folders, --activity, and activity measured from a torch model on the CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cimgraph import cli
from cimgraph.errors import CimgraphError, WorkloadError
from cimgraph.mapping import map_network
from cimgraph.netlist import load_netlist
from cimgraph.schedule.activity import activity_for, parse_activity
from cimgraph.schedule.traces import cell_density, input_bit_density, read_neurosim_traces
from cimgraph.workload import bundled

NETLIST = os.path.join(os.path.dirname(__file__), "..", "netlists", "vgg8_rram_22nm.yaml")


def write_traces(directory, layers, rng, input_bits=8, vectors=3, with_command=True):
    """Write traces the way DNN+NeuroSim's hook.py does: weights as %10.5f floats (unfolded rows x output channels),
    inputs as '0'/'1' strings (unfolded rows x vectors*bits, MSB first); return the expected densities."""
    names, inputs, weights = [], [], []
    for i, layer in enumerate(layers):
        name = f"FC{i}_"
        w = np.clip(np.round(rng.normal(0, 0.25, (layer.weight_rows, layer.weight_columns)) * 128), -128, 127) / 128
        np.savetxt(directory / f"weight{name}.csv", w, delimiter=",", fmt="%10.5f")
        x = rng.integers(0, 2**input_bits, (layer.weight_rows, vectors)) * (rng.random((layer.weight_rows, vectors)) < .5)
        bits = (x[:, :, None] >> np.arange(input_bits - 1, -1, -1)) & 1
        np.savetxt(directory / f"input{name}.csv", bits.reshape(layer.weight_rows, -1).astype(str), delimiter=",",
                   fmt="%s")
        inputs.append(bits.mean())
        codes = np.rint((w + 1) / 2 * 255).astype(int)
        weights.append(((codes[..., None] >> np.arange(8)) & 1).mean())
        names.append(name)
    if with_command:
        files = " ".join(f"./layer_record_MLP/weight{n}.csv ./layer_record_MLP/input{n}.csv" for n in names)
        (directory / "trace_command.sh").write_text(f"./NeuroSIM/main ./NeuroSIM/NetWork.csv 8 8 {files}\n")
    return inputs, weights


@pytest.mark.parametrize("with_command", [True, False])
def test_trace_densities_equal_a_hand_count(tmp_path, with_command):
    layers = bundled("mlp").layers
    inputs, weights = write_traces(tmp_path, layers, np.random.default_rng(1), with_command=with_command)
    activity = read_neurosim_traces(str(tmp_path), layers, weight_bits=8, cell_bits=1)
    assert activity.input == pytest.approx(inputs, rel=1e-12)
    assert activity.weight == pytest.approx(weights, rel=1e-12)
    # A NeuroSim weight of 0 is code 128 (offset binary): one '1' in eight cells; -1 is all zeros, +1 all ones.
    w = tmp_path / "w.csv"
    np.savetxt(w, np.array([[0.0, -1.0, 1.0]]), delimiter=",", fmt="%10.5f")
    assert cell_density(str(w), 1, 3, 8, 1) == pytest.approx((1 + 0 + 8) / 24)
    assert cell_density(str(w), 1, 3, 8, 2) == pytest.approx((2 / 3 + 0 + 4) / 12)  # 2-bit cells: 128 = 10 00 00 00


def test_trace_errors_name_the_file_and_place(tmp_path):
    layers = bundled("mlp").layers
    write_traces(tmp_path, layers, np.random.default_rng(2))
    with pytest.raises(WorkloadError, match="2 layers; the network has 8"):
        read_neurosim_traces(str(tmp_path), bundled("vgg8").layers, 8, 1)
    bad = tmp_path / "inputFC1_.csv"
    text = bad.read_text().splitlines()
    text[3] = text[3].replace("0", "x", 1)
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(WorkloadError, match=r"inputFC1_.csv: row 4: expected only '0' and '1'"):
        read_neurosim_traces(str(tmp_path), layers, 8, 1)
    with pytest.raises(WorkloadError, match="64 rows; the layer reads 32"):
        input_bit_density(str(tmp_path / "inputFC0_.csv"), 32)
    weight = tmp_path / "weightFC0_.csv"
    rows = weight.read_text().splitlines()
    rows[1] = rows[1].replace(rows[1].split(",")[2], "   1.50000", 1)
    weight.write_text("\n".join(rows) + "\n")
    with pytest.raises(WorkloadError, match=r"row 2, column 3: weights must lie in \[-1, 1\]"):
        cell_density(str(weight), 64, 64, 8, 1)
    rows[1] = rows[1].replace("   1.50000", "abc", 1)
    weight.write_text("\n".join(rows) + "\n")
    with pytest.raises(WorkloadError, match="row 2, column 3: expected a number"):
        cell_density(str(weight), 64, 64, 8, 1)
    with pytest.raises(WorkloadError, match="not a directory"):
        read_neurosim_traces(str(tmp_path / "missing"), layers, 8, 1)


def test_activity_option_parsing():
    assert parse_activity("input=0.2,weight=0.5") == {"input": 0.2, "weight": 0.5}
    assert parse_activity("weight=1") == {"weight": 1.0}
    for bad in ("input=1.5", "inputs=0.2", "input=0.2,input=0.3", "input=x", "0.2"):
        with pytest.raises(CimgraphError, match="--activity"):
            parse_activity(bad)


def test_activity_for_combines_sources(tmp_path):
    mapping = map_network(load_netlist(NETLIST), bundled("mlp"))
    inputs, weights = write_traces(tmp_path, bundled("mlp").layers, np.random.default_rng(3))
    traced = activity_for(mapping, traces=str(tmp_path))
    assert traced.input == pytest.approx(inputs)
    mixed = activity_for(mapping, activity="weight=0.3", traces=str(tmp_path))
    assert mixed.input == pytest.approx(inputs) and mixed.weight == pytest.approx([0.3, 0.3])
    assert activity_for(mapping) is None
    with pytest.raises(CimgraphError, match="not both"):
        activity_for(mapping, traces=str(tmp_path), model="mlp")
    with pytest.raises(CimgraphError, match="needs --activity-model"):
        activity_for(mapping, data="digits")


def test_run_cli_uses_traces_activity_and_model(tmp_path, capsys):
    inputs, weights = write_traces(tmp_path, bundled("mlp").layers, np.random.default_rng(4))
    results = {}
    for name, extra in {"traces": ["--traces", str(tmp_path)], "flag": ["--activity", "input=0.2,weight=0.5"],
                        "low": ["--activity", "input=0.05,weight=0.5"],
                        "model": ["--activity-model", "mlp", "--activity-data", "digits"]}.items():
        out = tmp_path / f"{name}.json"
        assert cli.main(["run", NETLIST, "--network", "mlp", "--json", str(out), *extra]) == 0
        results[name] = json.loads(out.read_text())
    capsys.readouterr()
    assert [l["input_activity"] for l in results["traces"]["layers"]] == pytest.approx(inputs)
    assert [l["weight_density"] for l in results["traces"]["layers"]] == pytest.approx(weights)
    assert {l["input_activity"] for l in results["flag"]["layers"]} == {0.2}
    assert results["low"]["dynamic_energy"] < results["flag"]["dynamic_energy"]
    measured = [l["input_activity"] for l in results["model"]["layers"]]
    assert all(0 < a < 1 for a in measured) and len(set(measured)) == 2
    assert cli.main(["run", NETLIST, "--network", "mlp", "--activity", "input=2"]) == 2
    assert "expected a fraction in [0, 1]" in capsys.readouterr().err
