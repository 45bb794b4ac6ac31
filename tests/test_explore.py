"""Design-space exploration: study files, samplers, store, resume, Pareto, report, memoisation."""
import base64
import csv
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml

from cimgraph import evaluate, load_netlist, map_network
from cimgraph.cli import main
from cimgraph.errors import CimgraphError, PluginError
from cimgraph.explore import SerialEngine, Store, StudyError, fronts, load_study, non_dominated, run_study
from cimgraph.explore.points import evaluate_batch
from cimgraph.explore.samplers import points
from cimgraph.memo import Memo, memoised
from cimgraph.testing import tiny_netlist
from cimgraph.units import parse
from cimgraph.workload import Layer, Network

NET = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, stride=1, padding=1,
                          groups=1, input_size=(8, 8), pool=1),
                    Layer(name="f", kind="fc", in_channels=64, out_channels=10, kernel=1, stride=1, padding=0,
                          groups=1, input_size=(1, 1), pool=1)))
BITS = "chip.tile.pe.subarray.adc.bits"


def write_study(tmp_path, name="s", file="s", **study):
    netlist = tmp_path / "tiny.yaml"
    netlist.write_text(yaml.safe_dump(tiny_netlist()))
    network = tmp_path / "net.yaml"
    network.write_text(yaml.safe_dump({"name": "n", "layers": [
        {"name": "c", "kind": "conv", "in_channels": 8, "out_channels": 8, "kernel": 3, "padding": 1,
         "input_size": [8, 8]}]}))
    body = {"name": name, "netlist": "tiny.yaml", "network": "net.yaml", **study}
    path = tmp_path / f"{file}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def test_study_file_reports_every_problem_with_its_key_path(tmp_path):
    path = write_study(tmp_path, axes={"chip.tyle.pes": [1, 2], BITS: {"range": [3, 2]}, "schedule": ["fast"]},
                       sampler={"kind": "sobl"}, objectives={"energy": "least", "speed": "max"},
                       constraints={"area": {"max": "ten"}}, seedd=1)
    with pytest.raises(StudyError) as info:
        load_study(path)
    text = str(info.value)
    for where in ("$.seedd", "$.axes.chip.tyle.pes", f"$.axes.{BITS}.range", "$.axes.schedule", "$.sampler.kind",
                  "$.objectives.energy", "$.objectives.speed", "$.constraints.area.max"):
        assert f"{path}: {where}:" in text, where
    assert "did you mean 'seed'" in text and "did you mean 'sobol'" in text


def test_axes_ranges_and_samplers(tmp_path):
    axes = {BITS: {"range": [2, 8], "steps": 4, "integer": True},
            "chip.tile.pe.subarray.rows": {"range": [32, 128], "steps": 3, "log": True, "integer": True},
            "technology": {"choices": ["45nm", "22nm"]}}
    grid = load_study(write_study(tmp_path, axes=axes))
    assert grid.axis(BITS).grid() == (2, 4, 6, 8) and grid.axis("chip.tile.pe.subarray.rows").grid() == (32, 64, 128)
    assert len(points(grid)) == 4 * 3 * 2
    for kind in ("random", "latin", "sobol"):
        study = load_study(write_study(tmp_path, axes=axes, sampler={"kind": kind, "samples": 16}, seed=3))
        first, again = points(study), points(study)
        assert first == again and len(first) == 16  # deterministic for a seed: a rerun asks for the same points
        assert all(2 <= p[BITS] <= 8 and 32 <= p["chip.tile.pe.subarray.rows"] <= 128 for p in first)
    latin = points(load_study(write_study(tmp_path, axes={BITS: {"range": [0, 16]}},
                                          sampler={"kind": "latin", "samples": 8})))
    # a Latin hypercube puts exactly one sample in each of the 8 equal strata of the range
    assert sorted(int(p[BITS] // 2) for p in latin) == list(range(8))


def test_squared_prefix_constraint_units():
    assert parse("100mm^2", "m^2") == pytest.approx(1e-4) and parse("4um2", "m^2") == pytest.approx(4e-12)


def test_store_resume_constraints_errors_export(tmp_path):
    path = write_study(tmp_path, axes={BITS: [3, 5, "six"], "technology": ["45nm", "22nm"]},
                       constraints={"area": {"max": 1.0}, "latency": {"max": "1ps"}})
    study = load_study(path)
    store_path = tmp_path / "s.sqlite"
    with Store(store_path) as store:
        summary = run_study(study, store, SerialEngine(), progress=False)
        assert summary == {"points": 6, "new": 6, "ok": 0, "infeasible": 4, "error": 2}
        again = run_study(study, store, SerialEngine(), progress=False)
        assert again["new"] == 0 and store.count() == 6  # a rerun skips what is done
        rows = store.rows()
    failed = [r for r in rows if r["status"] == "error"]
    assert all(r["axes"][BITS] == "six" and f"$.{BITS}" in r["error"] for r in failed)
    assert all(r["violated"] == "latency <= 1 ps" for r in rows if r["status"] == "infeasible")
    out = tmp_path / "s.csv"
    assert main(["explore", "--store", str(store_path), "--export", str(out)]) == 0
    records = list(csv.DictReader(out.open()))
    assert len(records) == 6 and {r["status"] for r in records} == {"infeasible", "error"}
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # Parquet is an optional extra: without it, a clear error
        assert main(["explore", "--store", str(store_path), "--export", str(tmp_path / "s.parquet")]) == 2
    else:
        import pyarrow.parquet as pq

        assert main(["explore", "--store", str(store_path), "--export", str(tmp_path / "s.parquet")]) == 0
        table = pq.read_table(tmp_path / "s.parquet").to_pylist()
        assert [r["key"] for r in table] == [r["key"] for r in records]
        assert [r["energy"] for r in table if r["status"] != "error"] == \
            [float(r["energy"]) for r in records if r["status"] != "error"]


def test_point_key_covers_method_schedule_activity(tmp_path):
    study = load_study(write_study(tmp_path, axes={"method": ["conventional", "novel"],
                                                   "schedule": ["pipeline", "layer"],
                                                   "activity.input": [0.2, 0.8], "chip.tile.pes": ["auto"]}))
    with Store(":memory:") as store:
        run_study(study, store, SerialEngine(), progress=False)
        rows = store.rows()
    assert len(rows) == 8 and len({r["key"] for r in rows}) == 8 and all(r["status"] == "ok" for r in rows)
    low, high = (next(r for r in rows if r["axes"] == {"method": "novel", "schedule": "layer", "activity.input": a,
                                                            "chip.tile.pes": "auto"})
                 for a in (0.2, 0.8))
    assert low["metrics"]["energy"] < high["metrics"]["energy"]  # fewer ones on the rows: less array energy
    layer = next(r for r in rows if r["axes"]["schedule"] == "layer")
    assert layer["metrics"]["period"] == pytest.approx(layer["metrics"]["latency"])


def test_non_dominated_sort_by_hand():
    values = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6], [4, 4]])
    assert fronts(values).tolist() == [0, 0, 0, 1, 0, 3, 2]
    assert non_dominated(values, chunk=2).tolist() == [True, True, True, False, True, False, False]


def test_memoised_equals_fresh_and_rebuilds_only_what_changed():
    def result(bits, tech):
        raw = tiny_netlist()
        raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = bits
        raw["technology"] = tech
        return evaluate(map_network(load_netlist(raw), NET))

    fresh = [result(b, t).to_dict() for b in (4, 6) for t in ("45nm", "22nm")]
    memo = Memo()
    with memoised(memo):
        cached = [result(b, t).to_dict() for b in (4, 6) for t in ("45nm", "22nm")]
        again = [result(b, t).to_dict() for b in (4, 6) for t in ("45nm", "22nm")]
        assert memo.hits > memo.misses
        chips = [load_netlist({**tiny_netlist(), "chip": {**tiny_netlist()["chip"]}}) for _ in range(2)]
        raw = tiny_netlist()
        raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = 6
        other = load_netlist(raw)
    assert json.dumps(fresh, sort_keys=True) == json.dumps(cached, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert chips[0].subarray is chips[1].subarray and chips[0].find("adc") is chips[1].find("adc")
    # ADC bits rebuild the ADC and what depends on it (adc_bits / psum_bits context, H-trees spanning its
    # area), never the array, the WL decoder or the chip buffer
    assert other.subarray is chips[0].subarray and other.find("adc") is not chips[0].find("adc")
    for node in ("chip/tile/pe/subarray/wl_decoder", "chip/buffer"):
        assert other.model(node) is chips[0].model(node)
    assert other.model("chip/htree") is not chips[0].model("chip/htree")
    # outside the block nothing is cached
    assert load_netlist(tiny_netlist()).subarray is not chips[0].subarray


def test_worker_without_a_client_plugin_is_a_clear_error():
    with pytest.raises(PluginError, match="missing plugin.*cimgraph-extra-adc 9.9"):
        evaluate_batch([], {"cimgraph-extra-adc": "9.9"})


def test_explore_cli_report_and_best_netlists(tmp_path, capsys):
    path = write_study(tmp_path, name="<b>study</b>", axes={BITS: [3, 4, 5, 6], "technology": ["45nm", "22nm"]},
                       objectives={"energy": "min", "latency": "min", "area": "min"},
                       constraints={"area": {"max": "0.2mm^2"}})
    store = tmp_path / "s.sqlite"
    assert main(["explore", str(path), "--store", str(store), "--workers", "1", "--quiet"]) == 0
    assert "8 points" in capsys.readouterr().out
    html = tmp_path / "s.html"
    assert main(["report", str(store), "-o", str(html)]) == 0
    text = html.read_text()
    assert text.count("<svg") == 3 and "<b>study</b>" not in text and "&lt;b&gt;study&lt;/b&gt;" in text
    links = re.findall(r'href="data:application/x-yaml;base64,([^"]+)"', text)
    with Store(store) as s:
        rows = s.rows()
        infeasible = sum(r["status"] == "infeasible" for r in rows)
    assert 1 <= len(links) <= 8 - infeasible
    assert load_netlist(yaml.safe_load(base64.b64decode(links[0]))).spec.name == "tiny-rram"
    assert "Infeasible points" in text if infeasible else True
    best = tmp_path / "best"
    assert main(["explore", "--store", str(store), "--best", "2", "--write-netlists", str(best)]) == 0
    written = sorted(best.iterdir())
    assert len(written) == 2
    assert main(["run", str(written[0]), "--network", str(tmp_path / "net.yaml")]) == 0
    assert main(["report", str(store), "-o", str(store)]) == 2  # never overwrites its input
    assert main(["explore", str(path), "--store", str(path)]) == 2
    assert main(["explore", str(path), "--store", str(store), "--workers", "2", "--dask-local", "2"]) == 2
    assert "at most one of --workers, --scheduler, --dask-local" in capsys.readouterr().err


def test_sweep_is_a_shortcut_onto_the_study_machinery():
    from cimgraph.schedule.sweep import sweep

    rows = sweep(tiny_netlist(), NET, {BITS: [4, 4, 6]}, schedule="layer", progress=False)
    assert [r[BITS] for r in rows] == [4, 4, 6] and rows[0] == rows[1]
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = 4
    direct = evaluate(map_network(load_netlist(raw), NET), schedule="layer")
    assert rows[0]["energy_J"] == direct.energy and rows[0]["area_mm2"] == direct.area * 1e6


def test_explore_needs_something_to_do(tmp_path):
    with pytest.raises(CimgraphError):
        from cimgraph.explore.command import explore_command

        explore_command(type("A", (), {"study": None, "export": None, "best": None, "store": "x"})())


JUNK = st.recursive(st.none() | st.booleans() | st.integers(-3, 600) | st.floats(allow_nan=True) |
                    st.sampled_from(["", "six", "22nm", "auto", "min", "max", "1ms", "grid", "optuna", "tpe"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
                        ["kind", "range", "steps", "log", "integer", "choices", "max", "min", "budget", "samples"]),
                        inner, max_size=3), max_leaves=6)
VALID = {"name": "s", "network": "vgg8", "axes": {BITS: [3, 4], "technology": {"choices": ["45nm", "22nm"]},
                                                   "chip.tile.pe.subarray.rows": {"range": [64, 256], "steps": 3}},
         "sampler": {"kind": "latin", "samples": 4}, "objectives": {"energy": "min"},
         "constraints": {"area": {"max": "100mm^2"}}, "seed": 0}


@settings(max_examples=80, deadline=None)
@given(key=st.sampled_from(["name", "network", "axes", "sampler", "objectives", "constraints", "seed", "batch",
                            "accuracy",
                            "samplr", "axes." + BITS, "axes.technology", "axes.chip.tile.pe.subarray.rows",
                            "sampler.kind", "sampler.samples", "constraints.area", "objectives.energy"]),
       value=JUNK)
def test_any_mutated_study_loads_or_raises_a_study_error(key, value):
    from cimgraph.explore import validate_study

    raw = json.loads(json.dumps(VALID))
    node, *path = key.split(".", 1)
    if path:
        raw[node][path[0]] = value
    else:
        raw[node] = value
    try:
        study = validate_study(raw, "m.yaml", netlists=[("tiny.yaml", tiny_netlist())])
    except StudyError as exc:
        assert all(str(p).startswith(("$", "line")) for p in exc.problems) and str(exc).startswith("m.yaml: ")
    else:
        points(study)  # a valid study always samples


def test_memo_never_caches_exceptions_and_stays_bounded():
    import attrs

    calls = []

    @attrs.frozen
    class Flaky:
        x: int

        def cost(self, fail: bool = False) -> float:
            calls.append(fail)
            if fail:
                raise ValueError("no")
            return self.x * 2.0

    memo = Memo(limit=4)
    with memoised(memo):
        from cimgraph import memo as m

        a, b = m.instance(Flaky, {"x": 1}), m.instance(Flaky, {"x": 1})
        assert a is b and m.instance(Flaky, {"x": 1.0}) is not a  # 1 and 1.0 are different resolved fields
        assert m.call(a.cost) == m.call(a.cost) == 2.0 and calls == [False]
        for _ in range(2):
            with pytest.raises(ValueError):
                m.call(a.cost, fail=True)
        assert calls == [False, True, True]
        for x in range(10):
            m.instance(Flaky, {"x": x})
        assert len(memo.models) + len(memo.calls) <= 4


def test_fronts_with_a_limit_stop_peeling():
    values = np.array([[i, 10 - i] for i in range(5)] + [[i + 1, 11 - i] for i in range(5)] + [[20, 20]])
    assert fronts(values).tolist() == [0] * 5 + [1] * 5 + [2]
    assert fronts(values, limit=3).tolist() == [0] * 5 + [1] * 6


def test_report_of_a_study_whose_points_all_failed(tmp_path):
    path = write_study(tmp_path, axes={BITS: ["six", "seven"]})
    store = tmp_path / "bad.sqlite"
    assert main(["explore", str(path), "--store", str(store), "--workers", "1", "--quiet"]) == 0
    html = tmp_path / "bad.html"
    assert main(["report", str(store), "-o", str(html)]) == 0
    text = html.read_text()
    assert "Points that failed" in text and "expected an integer" in text
    assert main(["explore", "--store", str(store), "--best", "1", "--write-netlists", str(tmp_path / "b")]) == 2


def test_accuracy_objective_runs_the_accuracy_plugin_per_point(tmp_path):
    from cimgraph.accuracy.run import simulate_accuracy

    axes = {"chip.tiles": ["auto"], "chip.tile.pes": ["auto"], BITS: [1, 6]}
    with pytest.raises(StudyError, match=r"\$\.accuracy: an accuracy objective"):
        load_study(write_study(tmp_path, axes=axes, objectives={"energy": "min", "accuracy": "max"}))
    study = load_study(write_study(tmp_path, axes=axes, objectives={"energy": "min", "accuracy": "max"},
                                   accuracy={"batches": 1}))
    with Store(":memory:") as store:
        run_study(study, store, SerialEngine(), progress=False)
        rows = store.rows(with_netlist=True)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    low, high = (r["metrics"]["accuracy"] for r in rows)
    assert 0 <= low < high <= 1  # a 1-bit ADC loses accuracy a 6-bit one keeps
    direct = simulate_accuracy(netlist=load_netlist(rows[1]["netlist"]), batches=1, fast=True, progress=False)
    assert high == direct.cim
