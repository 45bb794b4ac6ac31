"""Explore on real engines: a Dask LocalCluster, a `dask scheduler` + `dask worker` processes on 127.0.0.1,
a run killed with SIGKILL that resumes, and Optuna against random sampling. Every cluster is torn down."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from cimgraph.cli import main
from cimgraph.errors import PluginError
from cimgraph.explore import DaskEngine, PoolEngine, SerialEngine, Store, load_study, run_study
from cimgraph.explore.pareto import non_dominated, objective_matrix
from cimgraph import evaluate, load_netlist, map_network
from cimgraph.explore.points import METRIC_NAMES, evaluate_batch
from cimgraph.schedule.run import load_network
from cimgraph.testing import tiny_netlist

from test_explore import BITS, write_study

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])]),
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
AXES_200 = {BITS: [3, 4, 5, 6, 7], "chip.tile.pe.subarray.adc.share": [4, 8],
            "technology": ["45nm", "32nm", "22nm", "14nm"],
            "chip.tile.pe.subarray.rows": [32, 64, 128, 256, 512]}


def stored(path):
    with Store(path) as store:
        return {r["key"]: (r["status"], r["metrics"], r["error"]) for r in store.rows()}


@pytest.fixture(scope="module")
def local_cluster():
    engine = DaskEngine(local=2)
    yield engine
    engine.close()


def test_200_points_on_a_local_cluster_equal_the_serial_loop(tmp_path, local_cluster):
    study = load_study(write_study(tmp_path, axes=AXES_200))
    assert local_cluster.workers == 2
    paths = {}
    for name, engine in (("serial", SerialEngine()), ("dask", local_cluster)):
        paths[name] = tmp_path / f"{name}.sqlite"
        with Store(paths[name]) as store:
            assert run_study(study, store, engine, progress=False)["points"] == 200
    serial, dask = stored(paths["serial"]), stored(paths["dask"])
    assert len(serial) == 200 and serial == dask  # identical keys, statuses, figures (bit for bit) and errors
    # ... and identical to the plain per-point loop over the public API, without any memoisation
    with Store(paths["dask"]) as store:
        rows = store.rows(with_netlist=True)
    network = load_network(str(tmp_path / "net.yaml"))
    for row in rows:
        result = evaluate(map_network(load_netlist(row["netlist"], file=str(tmp_path / "tiny.yaml")), network))
        assert row["metrics"] == {m: float(getattr(result, m)) for m in METRIC_NAMES}
    with pytest.raises(PluginError, match="cimgraph-only-on-client 1.0"):
        next(local_cluster.results(evaluate_batch, [([], {"cimgraph-only-on-client": "1.0"})]))


def test_dask_scheduler_and_workers_as_processes(tmp_path):
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    address_file = tmp_path / "scheduler.json"
    started = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", str(address_file)], env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = yaml.safe_load(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for _ in range(2):
            started.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                             "--no-dashboard", "--no-nanny"], env=ENV, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        study = write_study(tmp_path, axes={BITS: [3, 4, 5, 6], "technology": ["45nm", "22nm"]})
        store = tmp_path / "remote.sqlite"
        assert main(["explore", str(study), "--store", str(store), "--scheduler", address, "--quiet"]) == 0
        with Store(tmp_path / "serial.sqlite") as serial:
            run_study(load_study(study), serial, SerialEngine(), progress=False)
        assert stored(store) == stored(tmp_path / "serial.sqlite") and len(stored(store)) == 8
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_sigkill_halfway_resumes_to_the_same_store(tmp_path):
    study = write_study(tmp_path, axes=AXES_200)
    killed = tmp_path / "killed.sqlite"
    command = [sys.executable, "-m", "cimgraph.cli", "explore", str(study), "--store", str(killed),
               "--workers", "1", "--batch", "2", "--quiet"]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    count = 0
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if killed.exists():
                try:
                    count = sqlite3.connect(killed).execute("SELECT COUNT(*) FROM points").fetchone()[0]
                except sqlite3.OperationalError:  # the schema is being created
                    count = 0
                if count >= 60:
                    break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    partial = stored(killed)
    assert 60 <= len(partial) < 200  # killed halfway, with what it had committed intact
    with Store(killed) as store:
        summary = run_study(load_study(study), store, SerialEngine(), progress=False)
        assert summary["new"] == 200 - len(partial)
        keys = [k for (k,) in store.db.execute("SELECT key FROM points")]
    assert len(keys) == len(set(keys)) == 200  # no duplicate, no lost point
    with Store(tmp_path / "fresh.sqlite") as fresh:
        run_study(load_study(study), fresh, PoolEngine(2), progress=False)
    assert stored(killed) == stored(tmp_path / "fresh.sqlite")


def test_optuna_front_dominates_random_sampling_of_the_same_budget(tmp_path):
    """Two continuous axes, clock and input activity: energy falls with activity and leakage time, latency with
    the clock, so the best designs sit in a corner that a random sample of 24 points rarely reaches."""
    axes = {"clock": {"range": [2e8, 4e9], "log": True}, "activity.input": {"range": [0.0, 1.0]}}
    fronts = {}
    for kind in ("random", "optuna"):
        sampler = {"kind": kind, "samples": 24} if kind == "random" else {"kind": "optuna", "budget": 24}
        study = load_study(write_study(tmp_path, name=kind, file=kind, axes=axes, sampler=sampler, seed=1,
                                       objectives={"energy": "min", "latency": "min"}))
        with Store(tmp_path / f"{kind}.sqlite") as store:
            assert run_study(study, store, SerialEngine(), progress=False)["points"] == 24
            rows = [r for r in store.rows() if r["status"] == "ok"]
        assert len(rows) >= 20
        matrix = objective_matrix(rows, study.objectives)
        fronts[kind] = matrix[non_dominated(matrix)]
    # the Optuna front covers more of the objective plane (2-D hypervolume up to a common reference point,
    # 10 % beyond the worst value of either front), and reaches the lower-energy corner
    reference = 1.1 * np.maximum(fronts["random"].max(0), fronts["optuna"].max(0))

    def hypervolume(front):
        area, ceiling = 0.0, reference[1]
        for energy, latency in front[np.argsort(front[:, 0])]:
            if latency < ceiling:
                area, ceiling = area + (reference[0] - energy) * (ceiling - latency), latency
        return area

    assert hypervolume(fronts["optuna"]) > hypervolume(fronts["random"])
    assert fronts["optuna"][:, 0].min() < fronts["random"][:, 0].min()


def test_nsga2_with_constraints_resumes_within_its_budget(tmp_path, capsys):
    study = write_study(tmp_path, axes={BITS: {"range": [2, 8], "integer": True}, "technology": ["45nm", "22nm"]},
                        sampler={"kind": "optuna", "algorithm": "nsga2", "budget": 10},
                        constraints={"latency": {"max": "1us"}})
    store = tmp_path / "nsga.sqlite"
    for _ in range(2):
        assert main(["explore", str(study), "--store", str(store), "--workers", "1", "--quiet"]) == 0
    first, second = [line for line in capsys.readouterr().out.splitlines() if " points in " in line]
    assert "10 points" in first and "(0 new" in second  # the rerun tells Optuna the stored points, asks for none
    with Store(store) as s:
        assert 1 <= s.count() <= 10  # repeated designs are evaluated once
