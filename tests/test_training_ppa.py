"""Training PPA (issue 13): hand-counted training work, invariants against inference, the POPU update and its
electromigration check, traces, and the netlist's transposed read-out."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cimgraph import evaluate, load_netlist, map_network
from cimgraph.cli import main
from cimgraph.errors import CimgraphError, NetlistError
from cimgraph.schedule.counts import layer_work
from cimgraph.schedule.training import evaluate_training, size_for_training
from cimgraph.schedule.training_backward import backward_movement, reversed_work
from cimgraph.schedule.training_result import TrainingResult
from cimgraph.schedule.training_update import (PopuSettings, changing_fraction, refresh_stats, curve_a, default_stats, pulse_position, pulses_for_change,
                                               update_levels)
from cimgraph.workload import bundled
from cimgraph.workload.training import TrainingSettings, training_work
from cimgraph.workload.training_traces import read_traces

MLP_V2 = """
name: mlp-train
technology: 22nm
cell: rram.1t1r
precision: {weight: 8, input: 8}
mapping: {method: conventional, duplication: false}
chip:
  tiles: auto
  buffer: {kind: buffer.sram, size: 8kB, width: 256}
  htree: {kind: link.htree, width: 256}
  accumulation: {kind: adder.tree, copies: 16}
  relu: {kind: activation.relu, copies: 16}
  wg: {kind: wg.sram}
  dram: {kind: dram.hbm2}
  tile:
    pes: auto
    buffer: {kind: buffer.sram, size: 2kB, width: 128}
    htree: {kind: link.htree, width: 128}
    pe:
      subarrays: auto
      buffer: {kind: buffer.sram, size: 1kB, width: 128}
      bus: {kind: link.bus, width: 128}
      subarray:
        kind: array.rram
        rows: 128
        columns: 128
        wl_decoder: {kind: decoder.wl}
        wl_switch: {kind: switch.wl}
        sl_switch: {kind: switch.sl}
        mux: {kind: mux.column}
        adc: {kind: adc.flash, bits: 5, share: 8}
        shift_add: {kind: shiftadd.bank}
        t_mux: {kind: mux.column, transposed: true}
        t_adc: {kind: adc.flash, bits: 4, share: 16, transposed: true}
        t_shift_add: {kind: shiftadd.bank, transposed: true}
"""

SETTINGS = TrainingSettings(batch=4, iterations=3)   # 12 images, 3 updates per epoch


@pytest.fixture
def mlp(tmp_path):
    path = tmp_path / "mlp.yaml"
    path.write_text(MLP_V2)
    return map_network(load_netlist(path), bundled("mlp"))


def test_transposed_readout_is_built_swapped_and_in_the_area(mlp):
    chip = mlp.chip
    names = [c.name for c in chip.levels["subarray"].transposed]
    assert names == ["t_mux", "t_adc", "t_shift_add"]
    t_adc = chip.model("chip/tile/pe/subarray/t_adc")
    assert (t_adc.bits, t_adc.share) == (4, 16)
    # the transposed shift-adder takes its sharing from the transposed ADC (16 rows per ADC)
    assert chip.model("chip/tile/pe/subarray/t_shift_add").share == 16
    assert chip.model("chip/tile/pe/subarray/t_shift_add").adc_bits == 4
    # forward peripherals still see the forward ADC
    assert chip.model("chip/tile/pe/subarray/shift_add").share == 8
    # the transposed periphery is part of the subarray's area
    level = chip.levels["subarray"]
    parts = sum(c.area for c in (*level.components, *level.transposed)) + level.array.area
    assert level.unit_area == pytest.approx(parts)
    assert chip.node("chip/tile/pe/subarray/t_adc")["transposed"] is True


def test_transposed_outside_the_subarray_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(MLP_V2.replace("dram: {kind: dram.hbm2}", "dram: {kind: dram.hbm2, transposed: true}"))
    with pytest.raises(NetlistError, match=r"\$\.chip\.dram\.transposed"):
        load_netlist(path)


def test_mlp_training_work_matches_the_hand_count(mlp):
    # mlp: 64 -> 64 -> 10; 128x128 subarrays, 8 one-bit cells per weight, no duplication
    work = training_work(mlp, SETTINGS)
    assert [(p.row_blocks, p.column_blocks, p.duplication) for p in mlp.layers] == [(1, 4, 1), (1, 1, 1)]
    # activation gradient: none for the first layer; layer 2: 1 x 1 subarray x 1 vector x 8 error bits
    assert work.transposed_bit_cycles.tolist() == [0.0, 8.0]
    # weight gradient: K*K*C_in = 64 activation vectors against a 1-row error matrix of N x 8 bits
    assert work.wg_vectors.tolist() == [64.0, 64.0]
    assert work.wg_rows.tolist() == [1.0, 1.0]
    assert work.wg_columns.tolist() == [512.0, 80.0]
    # update: every used row of every column block: 4 x 64 and 1 x 64 rows
    assert work.update_rows.tolist() == [256.0, 64.0]
    # DRAM: 2 x (activations + errors + gradients) bits per image
    assert work.dram_bits.tolist() == [2 * (64 * 8 + 64 * 8 + 4096 * 8), 2 * (64 * 8 + 10 * 8 + 640 * 8)]


def test_mlp_phase_costs_are_counts_times_model_actions(mlp):
    r = evaluate_training(mlp, settings=SETTINGS)
    sized, _, _ = size_for_training(mlp, SETTINGS)
    chip = sized.chip
    images = 12
    # DRAM: every bit at the HBM2 energy per bit
    dram = chip.model("chip/dram")
    bits = 2 * (64 * 8 + 64 * 8 + 4096 * 8) + 2 * (64 * 8 + 10 * 8 + 640 * 8)
    assert r.phase("dram").energy_by_component["chip/dram"] == pytest.approx(bits * images * 3.9e-12)
    assert dram.bit_energy == 3.9e-12
    # weight gradient: loads (V x column blocks), computes (vectors x bits x blocks), buffer accesses
    wg = chip.model("chip/wg")
    loads = 1 * 4 + 1 * 1
    computes = 64 * 8 * 4 + 64 * 8 * 1
    buf = wg.local_buffer()
    expected = images * (loads * wg.load().energy + computes * wg.compute().energy
                         + (64 * 8 + 64 * 8) * buf.read().energy + (64 * 4 + 64 * 1) * buf.write().energy
                         + (4096 + 640) / wg.accumulators * wg.accumulate_batch().energy)
    # batch accumulators: NeuroSim's parallel subarray writes x rows x columns, gradient + log2 B bits
    _, _, parallel = size_for_training(mlp, SETTINGS)
    assert wg.accumulators == parallel * 128 * 128 and wg.accumulator_bits == 8 + 2
    assert r.phase("weight_gradient").energy == pytest.approx(expected)
    # activation gradient: the array's transposed reads, 8 bit-cycles of layer 2 per image
    array_energy = r.phase("activation_gradient").energy_by_component["chip/tile/pe/subarray"]
    # each row's cells conduct while that row is sensed: the transposed mux + ADC time, not share x that
    t_sensed = (chip.model("chip/tile/pe/subarray/t_mux").select().latency
                + chip.model("chip/tile/pe/subarray/t_adc").convert().latency)
    one = chip.subarray.read_transposed(input_activity=0.5, weight_density=0.5, pulse=t_sensed)
    assert array_energy == pytest.approx(images * 8 * one.energy)
    # update: 256 + 64 rows, 3 updates, each row write at the default pulse count (fc1 has 4x the rows)
    rows = r.phase("weight_update").energy_by_component["chip/tile/pe/subarray"]
    assert rows > 0 and r.phase("weight_update").energy_by_layer["fc1"] > r.phase("weight_update").energy_by_layer["fc2"]


def test_training_forward_energy_equals_inference_energy(mlp):
    r = evaluate_training(mlp, settings=SETTINGS)
    sized, _, _ = size_for_training(mlp, SETTINGS)
    inference = evaluate(sized, schedule="layer")
    assert r.phase("forward").energy == pytest.approx(inference.dynamic_energy * 12)
    assert r.phase("forward").latency == pytest.approx(inference.latency * 12)


def test_phases_add_up_and_ops_follow_fig34(mlp):
    r = evaluate_training(mlp, settings=SETTINGS)
    assert [p.name for p in r.phases] == ["forward", "activation_gradient", "weight_gradient", "weight_update", "dram"]
    assert r.latency == pytest.approx(sum(p.latency for p in r.phases))
    assert r.energy == pytest.approx(r.dynamic_energy + r.leakage_power * r.latency)
    assert r.ops == 3 * bundled("mlp").macs * 12
    assert r.tops_per_w == pytest.approx(r.ops / r.energy / 1e12)
    assert all(p.peak_energy <= p.energy + 1e-30 for p in r.phases)
    assert r.phase("dram").peak_energy == 0.0
    assert r.area_by_group["weight_gradient"] == pytest.approx(r.wg_area) and r.wg_area > 0
    assert TrainingResult.from_dict(r.to_dict()) == r


def test_twice_the_batches_twice_the_epoch(mlp):
    a = evaluate_training(mlp, settings=TrainingSettings(batch=4, iterations=3))
    b = evaluate_training(mlp, settings=TrainingSettings(batch=4, iterations=6))
    for pa, pb in zip(a.phases, b.phases):
        assert pb.energy == pytest.approx(2 * pa.energy) and pb.latency == pytest.approx(2 * pa.latency)


def test_v2_needs_wg_and_dram(tmp_path):
    path = tmp_path / "nowg.yaml"
    path.write_text(MLP_V2.replace("  wg: {kind: wg.sram}\n", ""))
    mapping = map_network(load_netlist(path), bundled("mlp"))
    with pytest.raises(CimgraphError, match="weight-gradient unit"):
        evaluate_training(mapping, settings=SETTINGS)


def test_training_needs_a_transposed_readout(tmp_path):
    text = "\n".join(line for line in MLP_V2.splitlines() if "transposed: true" not in line)
    path = tmp_path / "plain.yaml"
    path.write_text(text)
    with pytest.raises(CimgraphError, match="transposable"):
        evaluate_training(map_network(load_netlist(path), bundled("mlp")), settings=SETTINGS)


# -- device update -----------------------------------------------------------------------------------

def test_pulse_count_on_the_ltp_curve():
    # linear device: change x levels
    assert pulses_for_change(100, 0.0, 0.2, 0.1) == pytest.approx(10.0)
    # eq. 8.1 saturates, so a change near the top takes more pulses
    low, high = pulses_for_change(100, 2.0, 0.1, 0.1), pulses_for_change(100, 2.0, 0.8, 0.1)
    assert high > low
    # NeuroSim's getParamA table (formula.cpp): label 0.01 -> 126.268958, 0.06 -> 21.044185, 0.12 -> 10.521102
    for label, a_table in ((0.01, 126.268958), (0.06, 21.044185), (0.12, 10.521102), (-0.02, -63.134314)):
        assert curve_a(label) == pytest.approx(a_table, rel=1e-6)
    # the position is the inverse of eq. 8.1: G(x(g)) = g
    a = curve_a(2.0)
    x = pulse_position(0.3, 2.0)
    assert (1 - math.exp(-x / a)) / (1 - math.exp(-1 / a)) == pytest.approx(0.3)
    # the whole range always takes the full pulse count
    assert pulses_for_change(64, 3.0, 0.0, 1.0) == pytest.approx(64.0)


def test_update_levels_follow_neurotorch_formula():
    from cimgraph.plugins import default_registry

    flash = default_registry().memory_cell("neurotorch.flash")
    popu = PopuSettings()     # UpdateMax 5e-4, Cycle 1 ns, DelPrecision 14
    # min(2 floor(5e-4 x min(0.1, FullTimeLTD) / 2e-9), 2^(8 + 14 - 10)) = 4096 (seed 000 sec. 2)
    assert update_levels(flash, popu, 8) == 4096
    reram2 = default_registry().memory_cell("neurotorch.reram2")
    assert update_levels(reram2, popu, 8) == 2 * math.floor(5e-4 * 128 * 50e-9 / 2e-9)


# -- POPU ---------------------------------------------------------------------------------------------

NEUROTORCH = "netlists/neurotorch_flash_45nm.yaml"


def test_popu_scheme_has_no_dram_and_no_wg():
    mapping = map_network(load_netlist(NEUROTORCH), bundled("mlp"))
    r = evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=1, iterations=10))
    assert [p.name for p in r.phases] == ["forward", "activation_gradient", "weight_update"]
    assert r.wg_area == 0.0 and "dram" not in r.energy_by_group
    inference = evaluate(mapping, schedule="layer")
    assert r.phase("forward").energy == pytest.approx(10 * inference.dynamic_energy)
    with pytest.raises(CimgraphError, match="batch 1"):
        evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=8, iterations=10))


def test_popu_ltp_ltd_both_doubles_the_update_window():
    mapping = map_network(load_netlist(NEUROTORCH), bundled("mlp"))
    one = evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=1, iterations=2),
                            popu=PopuSettings(refresh_every=0))
    both = evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=1, iterations=2),
                             popu=PopuSettings(mode="LTPLTD_both"))
    assert both.phase("weight_update").peak_latency == pytest.approx(2 * one.phase("weight_update").peak_latency)


def test_electromigration_check_fires_on_a_high_current_cell(tmp_path):
    # ReRAM2 (seed 000): 16 uA per cell; 256 cells on a line = 4.1 mA >> J_max x pitch^2 at 45 nm
    text = open(NEUROTORCH).read().replace("{name: neurotorch.flash, bits_per_cell: 7}",
                                           "{name: neurotorch.reram2, bits_per_cell: 7}")
    text = text.replace("kind: array.fefet", "kind: array.crossbar")
    path = tmp_path / "reram2.yaml"
    path.write_text(text)
    mapping = map_network(load_netlist(path), bundled("mlp"))
    s = TrainingSettings(batch=1, iterations=2)
    with pytest.raises(CimgraphError, match="electromigration limit"):
        evaluate_training(mapping, scheme="popu", settings=s, popu=PopuSettings(electromigration="error"))
    r = evaluate_training(mapping, scheme="popu", settings=s)
    note = next(n for n in r.notes if "serialised" in n)
    pitch = mapping.chip.tech.wire_local.pitch
    steps = math.ceil(256 * 16e-6 / (1.5e10 * pitch ** 2))
    assert f"into {steps} steps" in note


# -- traces -------------------------------------------------------------------------------------------

def _write_traces(folder, rows):
    (folder / "Delta_dist.csv").write_text(
        "epoch,layer,mean,std,mean_abs,nonzero_fraction,pulses_ltp,pulses_ltd,updates\n" + rows)


def test_traces_drive_the_update(mlp, tmp_path):
    _write_traces(tmp_path, "0,fc1,0,0.01,0.01,0.5,2,2,3\n0,fc2,0,0.01,0.01,0.5,2,2,3\n"
                            "1,fc1,0,0.01,0.01,0.25,0.5,0.5,3\n1,fc2,0,0.01,0.01,0.25,0.5,0.5,3\n")
    traces = read_traces(str(tmp_path))
    assert traces["fc1"].epoch == 1 and traces["fc1"].nonzero_fraction == 0.25
    heavy = evaluate_training(mlp, settings=SETTINGS, traces=read_traces(str(tmp_path), epoch=0))
    light = evaluate_training(mlp, settings=SETTINGS, traces=traces)
    # epoch 0: 8 pulses per changing cell per phase; epoch 1: 4 -> fewer pulses, less time and energy
    assert heavy.phase("weight_update").latency > light.phase("weight_update").latency
    assert heavy.phase("weight_update").energy > light.phase("weight_update").energy
    assert any("Delta_dist.csv" in n for n in light.notes)


def test_bad_trace_names_file_row_and_column(tmp_path):
    _write_traces(tmp_path, "0,fc1,0,0.01,0.01,1.5,2,2,3\n")
    with pytest.raises(CimgraphError, match=r"Delta_dist.csv: row 2, column nonzero_fraction"):
        read_traces(str(tmp_path))
    (tmp_path / "Delta_dist.csv").write_text("epoch,layer\n0,fc1\n")
    with pytest.raises(CimgraphError, match="missing column"):
        read_traces(str(tmp_path))


# -- command line and report -------------------------------------------------------------------------

def test_train_ppa_cli_writes_json_csv_and_a_side_by_side_report(tmp_path, capsys):
    netlist = tmp_path / "mlp.yaml"
    netlist.write_text(MLP_V2)
    a, b = tmp_path / "v2.json", tmp_path / "popu.json"
    assert main(["train-ppa", str(netlist), "--network", "mlp", "--batch", "4", "--iterations", "3",
                 "--json", str(a), "--csv", str(tmp_path / "csv")]) == 0
    out = capsys.readouterr().out
    assert "Weight gradient" in out and "TOPS/W" in out
    assert (tmp_path / "csv" / "phases.csv").read_text().count("\n") == 6
    assert main(["train-ppa", NEUROTORCH, "--network", "mlp", "--scheme", "popu", "--iterations", "5",
                 "--json", str(b)]) == 0
    html = tmp_path / "cmp.html"
    assert main(["report", str(a), str(b), "-o", str(html)]) == 0
    page = html.read_text()
    assert "Side by side" in page and "mlp-train (neurosim-v2)" in page and "<svg" in page
    assert main(["train-ppa", str(netlist), "--network", "mlp", "--json", str(netlist)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(["train-ppa", str(netlist), "--network", "mlp", "--json", str(a), "--report", str(a)]) == 2
    assert "the same file is given for two outputs" in capsys.readouterr().err
    assert main(["train-ppa", str(netlist), "--network", "mlp", "--json", str(tmp_path / "csv" / "x" / "r.json"),
                 "--csv", str(tmp_path / "csv" / "phases.csv")]) == 2   # a file where a folder must be
    assert "is a file, not a folder" in capsys.readouterr().err


def test_bundled_training_netlists_evaluate_vgg8():
    """The shipped V2 netlists: DRAM alone bounds V2 at about 2 TOPS/W (seed 002 insight 5: 3.9 pJ/bit
    against 3 x MACs per image), whatever the device."""
    bounds = []
    for name in ("rram", "fefet", "sram"):
        mapping = map_network(load_netlist(f"netlists/vgg8_{name}_32nm_train.yaml"), bundled("vgg8"))
        r = evaluate_training(mapping)
        dram = r.phase("dram").energy_by_group["dram"]
        bounds.append(r.ops / dram / 1e12)
        assert r.tops_per_w < r.ops / dram / 1e12
    assert np.ptp(bounds) < 1e-9 and 1.5 < bounds[0] < 2.5


def _rram_with_pulse(tmp_path, pulse):
    text = open("netlists/vgg8_rram_32nm_train.yaml").read().replace(
        "cell: rram.1t1r", f"cell: {{name: rram.1t1r, write_pulse: {pulse}}}")
    path = tmp_path / f"rram_{pulse}.yaml"
    path.write_text(text)
    return evaluate_training(map_network(load_netlist(path), bundled("vgg8")))


def test_seed002_insights_write_pulse_and_weight_gradient_bottleneck(tmp_path):
    """Seed 002: (2) a write pulse beyond ~1 us limits the throughput at batch 200; weight-gradient computation
    is the bottleneck of V2 training."""
    shares = {}
    for pulse in (1e-7, 1e-6, 1e-5):
        r = _rram_with_pulse(tmp_path, pulse)
        shares[pulse] = r.phase("weight_update").latency / r.latency
        if pulse == 1e-7:
            longest = max(r.phases, key=lambda p: p.latency)
            assert longest.name == "weight_gradient"
    assert shares[1e-7] < 0.05 < 0.1 < shares[1e-6] < 0.5 < shares[1e-5]


def test_dram_kinds_cost_bits_at_their_published_energy_and_rate():
    from cimgraph.components.dram import GDDR5, HBM2

    hbm, gddr = HBM2(), GDDR5()
    assert hbm.transfer().energy == pytest.approx(256 * 3.9e-12)
    assert hbm.transfer().latency == pytest.approx(256 / (4 * 1024 * 2e9))
    assert gddr.transfer().energy == pytest.approx(256 * 14e-12)
    assert gddr.transfer().latency == pytest.approx(256 / (12 * 32 * 8e9))
    assert hbm.area() == 0.0 and hbm.leakage() == 0.0
    assert HBM2(bandwidth=1e12).transfer().latency == pytest.approx(256e-12)


def test_more_error_bits_never_make_backprop_cheaper(mlp):
    phases = [evaluate_training(mlp, settings=TrainingSettings(batch=4, iterations=3, error_bits=b))
              .phase("activation_gradient") for b in (4, 8, 12)]
    assert phases[0].energy < phases[1].energy < phases[2].energy
    assert phases[0].latency < phases[1].latency < phases[2].latency


def test_larger_buffer_overhead_writes_more_subarrays_at_once(mlp):
    small = evaluate_training(mlp, settings=SETTINGS, buffer_constraint=1.0)
    large = evaluate_training(mlp, settings=SETTINGS, buffer_constraint=2000.0)   # 2000 x 512 bits
    assert large.parallel_writes > small.parallel_writes and large.global_buffer > small.global_buffer
    assert large.phase("weight_update").latency <= small.phase("weight_update").latency


def test_single_training_report_and_multi_epoch_summary(tmp_path, capsys):
    netlist = tmp_path / "mlp.yaml"
    netlist.write_text(MLP_V2)
    html = tmp_path / "r.html"
    assert main(["train-ppa", str(netlist), "--network", "mlp", "--batch", "4", "--iterations", "3", "--epochs", "2",
                 "--report", str(html)]) == 0
    assert "2 epochs:" in capsys.readouterr().out
    page = html.read_text()
    assert "Phases (per epoch)" in page and "Energy by component and phase" in page and "<svg" in page


@pytest.mark.parametrize("cell,array", [("neurotorch.flash", "array.fefet"), ("neurotorch.fefet", "array.fefet"),
                                        ("neurotorch.reram", "array.crossbar"), ("neurotorch.reram2", "array.crossbar"),
                                        ("neurotorch.ideal", "array.crossbar")])
def test_popu_runs_every_neurotorch_device(tmp_path, cell, array):
    text = open(NEUROTORCH).read().replace("{name: neurotorch.flash, bits_per_cell: 7}",
                                           f"{{name: {cell}, bits_per_cell: 5}}")
    text = text.replace("kind: array.fefet", f"kind: {array}").replace("weight: 7", "weight: 5")
    path = tmp_path / "device.yaml"
    path.write_text(text)
    mapping = map_network(load_netlist(path), bundled("mlp"))
    r = evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=1, iterations=3),
                          popu=PopuSettings(refresh_every=0))
    assert r.phase("weight_update").latency > 0 and r.energy > 0
    # one update window per outer product (no pair refresh): UpdateLEVELs x Cycle (x serialisation steps)
    from cimgraph.schedule.training_update import line_current
    popu = PopuSettings()
    levels = update_levels(mapping.chip.cell, popu, 8)
    # FeFET: 2 floor(5e-4 x 32 x 75 ns / 2 ns) = 0 -> flagged, and one level is used (seed 000 sets its
    # UpdateLEVELs to 1 by hand)
    assert (levels < 2) == any("too low update resolution" in n for n in r.notes)
    window = max(levels, 1) * popu.cycle
    steps = line_current(mapping.chip.cell, mapping.chip.tech, 256, popu).serialisation
    products = sum(p.layer.input_vectors for p in mapping.layers)
    assert r.phase("weight_update").energy_by_layer["fc1"] > 0
    assert r.phase("weight_update").peak_latency == pytest.approx(3 * products * window * steps)


def test_show_marks_the_transposed_readout(capsys):
    assert main(["show", "netlists/vgg8_sram_32nm_train.yaml"]) == 0
    out = capsys.readouterr().out
    assert "t_adc x1 adc.flash (transposed read-out)" in out and "adc x1 adc.flash\n" in out


def test_rows_without_a_changing_cell_are_not_rewritten(mlp, tmp_path):
    # 0.1 % of the cells change: 1 - 0.999^128 = 12 % of the 128-cell rows hold one; same mean pulses per cell
    _write_traces(tmp_path, "0,fc1,0,0,0,0.001,0.004,0.004,3\n0,fc2,0,0,0,0.001,0.004,0.004,3\n")
    sparse = evaluate_training(mlp, settings=SETTINGS, traces=read_traces(str(tmp_path)))
    _write_traces(tmp_path, "0,fc1,0,0,0,1.0,0.004,0.004,3\n0,fc2,0,0,0,1.0,0.004,0.004,3\n")
    dense = evaluate_training(mlp, settings=SETTINGS, traces=read_traces(str(tmp_path)))
    written = 1 - 0.999 ** 128
    ws, wd = sparse.phase("weight_update"), dense.phase("weight_update")
    # both apply 4 (sparse) / 1 (dense, ceil of 0.004) pulses per phase to a written row
    array_s = ws.energy_by_component["chip/tile/pe/subarray"]
    array_d = wd.energy_by_component["chip/tile/pe/subarray"]
    assert array_s == pytest.approx(array_d, rel=1e-9)   # the same mean pulses per cell
    assert ws.energy_by_component["chip/tile/pe/subarray/wl_decoder"] == pytest.approx(
        written * wd.energy_by_component["chip/tile/pe/subarray/wl_decoder"])


def test_neurotorch_claim_popu_cheaper_than_wg_and_dram(tmp_path):
    """Seed 000 sec. 1: POPU needs less area, latency and energy than the WG unit + DRAM (same chip)."""
    text = open(NEUROTORCH).read().replace("  relu: {kind: activation.relu, copies: 64}\n",
                                           "  relu: {kind: activation.relu, copies: 64}\n  wg: {kind: wg.sram}\n"
                                           "  dram: {kind: dram.hbm2}\n")
    path = tmp_path / "both.yaml"
    path.write_text(text)
    network = bundled("vgg8")
    v2 = evaluate_training(map_network(load_netlist(path), network))
    mapping = map_network(load_netlist(NEUROTORCH), network)
    popu = evaluate_training(mapping, scheme="popu", popu=PopuSettings(refresh_every=0))
    assert v2.images == popu.images == 50000
    wg_dram = [v2.phase(p) for p in ("weight_gradient", "dram", "weight_update")]
    assert popu.area < v2.area and v2.wg_area > 0
    assert popu.phase("weight_update").latency < sum(p.latency for p in wg_dram)
    assert popu.phase("weight_update").energy < sum(p.energy for p in wg_dram)
    # it holds for LTPLTD_both (no refresh); LTP_only's pair refresh every 100 updates, row by row with
    # Flash's 1 ms pulses, costs more time than the WG unit + DRAM
    both = evaluate_training(mapping, scheme="popu", popu=PopuSettings(mode="LTPLTD_both"))
    assert both.phase("weight_update").latency < sum(p.latency for p in wg_dram)
    refreshed = evaluate_training(mapping, scheme="popu")
    assert refreshed.phase("weight_update").latency > sum(p.latency for p in wg_dram)


# -- the activation gradient's reversed data flow (seed 001 sec. 5.2) --------------------------------------

def test_mlp_backward_chip_traffic_is_the_hand_count(mlp):
    # fc2 (64 -> 10): its 10 output errors x 8 bits come in from the chip buffer, its 64 input errors go back;
    # fc1 is the first layer and sends nothing back
    counts: dict = {}
    for ac in backward_movement(mlp, 8, np.array([0.0, 1.0])):    # inputs down and results up, summed
        counts[(ac.path, ac.action)] = counts.get((ac.path, ac.action), 0.0) + ac.count
    chip = mlp.chip
    psum_tile = chip.levels["tile"].psum_bits
    assert counts[("chip/buffer", "read")].tolist() == [0.0, 10 * 8 / 256]
    assert counts[("chip/buffer", "write")].tolist() == [0.0, 64 * 8 / 256]
    assert counts[("chip/htree", "transfer")].tolist() == pytest.approx([0.0, (10 * 8 + 64 * psum_tile) / 256])
    # one row block, one column block: nothing to add anywhere
    assert all(not np.any(v) for (p, a), v in counts.items() if a == "add")


def test_vgg8_partial_errors_reduce_to_the_input_error_map():
    mapping = map_network(load_netlist("netlists/vgg8_rram_32nm_train.yaml"), bundled("vgg8"))
    back = np.ones(len(mapping.layers))
    w, fwd = reversed_work(mapping, 5, back), layer_work(mapping)
    for i, p in enumerate(mapping.layers):
        k2 = p.layer.weight_rows / p.layer.in_channels
        ifm = p.layer.input_size[0] * p.layer.input_size[1] * p.layer.in_channels
        assert w.outputs[i] == ifm and w.ofm_bits[i] == ifm * 5          # the reduced map, at error bits
        partial = p.layer.input_vectors * p.input_rows                       # one per row and position
        # every subarray sends its rows' partial errors unreduced; the chip holds the fully reduced map
        assert w.outputs[i] * w.groups["subarray"][i] == pytest.approx(partial * p.column_blocks)
        assert w.groups["chip"][i] == 1.0
        assert w.groups["pe"][i] <= w.groups["subarray"][i]
        # errors delivered: every row block gets its slice of each of V x N error values
        assert w.stream_bits[i] == fwd.outputs[i] * 5 * p.row_blocks
        if p.layer.kind == "conv" and p.layer.input_size[0] == p.layer.output_size[0]:
            assert partial / ifm == pytest.approx(k2)      # stride 1, same padding: col2im fan-in K^2


def test_more_error_bits_move_more_backward_bits(mlp):
    e = [evaluate_training(mlp, settings=TrainingSettings(batch=4, iterations=3, error_bits=b))
         .phase("activation_gradient").energy_by_component["chip/buffer"] for b in (4, 8)]
    assert e[1] > e[0] > 0


# -- the default update without a trace: WAGE Q_G stochastic rounding of Laplace gradients ---------------

def test_default_changing_fraction_is_lr_over_the_harmonic_number():
    # 4096 weights: H_n = ln 4096 + 0.5772 + 1/8192 = 8.8951; lr 1 -> 11.24 % of the cells get a pulse
    assert changing_fraction(4096) == pytest.approx(1 / 8.89511, rel=1e-5)
    assert changing_fraction(4096, 0.5) == pytest.approx(changing_fraction(4096) / 2)
    assert changing_fraction(10**7) < changing_fraction(10**3) < 1.0
    assert changing_fraction(1) == 1.0       # a single weight is its own maximum


def test_default_update_pulses_scale_with_the_changing_fraction(mlp):
    cell = mlp.chip.cell
    every = pulses_for_change(cell.levels_ltp, cell.nonlinearity_ltp, 0.5, 2.0 ** -8)
    st = default_stats(cell, 8, 640)
    assert st.nonzero_fraction == pytest.approx(changing_fraction(640))
    assert st.pulses_ltp == pytest.approx(changing_fraction(640) * every / 2)
    r = evaluate_training(mlp, settings=SETTINGS)
    note = next(n for n in r.notes if n.startswith("changing cells per update"))
    assert f"fc2 {changing_fraction(640):.3g}" in note and "lr / H_n" in " ".join(r.notes)
    # a smaller learning rate changes fewer cells and costs less update energy
    low = evaluate_training(mlp, settings=TrainingSettings(batch=4, iterations=3, learning_rate=0.25))
    assert low.phase("weight_update").energy < r.phase("weight_update").energy
    with pytest.raises(CimgraphError, match="learning_rate"):
        TrainingSettings(learning_rate=2.0)


def test_popu_pair_refresh_costs_one_row_by_row_rewrite_every_n_updates():
    mapping = map_network(load_netlist(NEUROTORCH), bundled("mlp"))
    run = lambda **kw: evaluate_training(mapping, scheme="popu", settings=TrainingSettings(batch=1, iterations=400),  # noqa: E731
                                         popu=PopuSettings(**kw)).phase("weight_update")
    never, every100, every200 = run(refresh_every=0), run(refresh_every=100), run(refresh_every=200)
    # the refresh is paid once per N updates: its cost halves when N doubles
    assert every100.energy - never.energy == pytest.approx(2 * (every200.energy - never.energy))
    assert every100.latency - never.latency == pytest.approx(2 * (every200.latency - never.latency))
    assert every100.energy > never.energy
    # LTPLTD_both moves the pair both ways and needs no refresh
    assert run(mode="LTPLTD_both", refresh_every=100).energy == run(mode="LTPLTD_both", refresh_every=0).energy
    # per refreshed cell: one reset pulse and |w| P_max / 2 reprogram pulses (mean |w| 0.5)
    cell = mapping.chip.cell
    st = refresh_stats(cell)
    assert (st.pulses_ltd, st.pulses_ltp, st.nonzero_fraction) == (1.0, cell.levels_ltp / 4, 1.0)
    with pytest.raises(CimgraphError, match="refresh_every"):
        PopuSettings(refresh_every=-1)
