"""Speed of a design study: VGG-8 chip evaluations per minute, varying ADC bits, ADC share, subarray size
and technology node (issue 16; goal >= 10,000 per minute on a 2-core machine).

Measured in one run, each from cold caches: the serial per-point loop (load_netlist -> map_network ->
evaluate per point, no memoisation: the baseline), then `run_study` on the serial engine, the process
pool and a Dask LocalCluster (memoised models and costs, mapping reused, every point committed to a
SQLite store). Prints evaluations per minute of wall time, the ratio to the baseline and to the goal,
and the load. On a shared, loaded machine wall time understates the speed, so each line also gives
evaluations per CPU-minute (this process plus its reaped worker processes) and the projection
"per CPU-minute x cores" for the same machine idle.

    python benchmarks/bench_explore.py [points-for-baseline]
"""
from __future__ import annotations

import copy
import os
import resource
import sys
import tempfile
import time

import yaml

import cimgraph
from cimgraph.components import circuit
from cimgraph.explore import DaskEngine, PoolEngine, SerialEngine, Store, run_study, validate_study
from cimgraph.explore.points import forget
from cimgraph.explore.samplers import points
from cimgraph.schedule.sweep import set_path

GOAL = 10_000.0  # evaluations per minute
NETLIST = "netlists/vgg8_rram_22nm.yaml"
AXES = {"chip.tile.pe.subarray.adc.bits": [3, 4, 5, 6, 7, 8],
        "chip.tile.pe.subarray.adc.share": [4, 8, 16, 32],
        "chip.tile.pe.subarray.rows": [64, 128, 256, 512],
        "chip.tile.pe.subarray.columns": [64, 128, 256, 512],
        "technology": ["65nm", "45nm", "32nm", "22nm", "14nm"]}


def cold() -> None:
    forget()
    circuit.gate_area.cache_clear()
    circuit.repeated_wire.cache_clear()


def cpu() -> float:
    """CPU seconds of this process and of its worker processes that have exited."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def line(label: str, n: int, wall: float, used: float, base: float | None, note: str) -> float:
    rate, per_cpu = n / wall * 60, n / used * 60
    cores = os.cpu_count() or 1
    ratio = rate / base if base else 1.0
    print(f"{label:28} {rate:8,.0f} evals/min wall (ratio {ratio:5.2f}, goal {rate / GOAL:4.2f})  "
          f"{per_cpu:8,.0f} per CPU-min (x{cores} cores: {per_cpu * cores:8,.0f}, goal {per_cpu * cores / GOAL:4.2f})"
          f"  {note}")
    return rate


def main(baseline_points: int = 120) -> None:
    with open(NETLIST, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    study = validate_study({"name": "bench", "network": "vgg8", "axes": AXES}, NETLIST, netlists=[(NETLIST, raw)])
    every = points(study)
    network = cimgraph.bundled("vgg8")
    cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(raw), network))  # imports, registry

    cold()
    sample = every[:: max(1, len(every) // baseline_points)][:baseline_points]
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min) on {os.cpu_count()} cores")
    start, used = time.perf_counter(), cpu()
    for point in sample:
        variant = copy.deepcopy(raw)
        for key, value in point.items():
            set_path(variant, key, value)
        cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(variant), network))
    base = line("serial per-point loop", len(sample), time.perf_counter() - start, cpu() - used, None,
                f"({len(sample)} points, no memo)")
    engines = (("explore, serial engine", SerialEngine), ("explore, process pool", lambda: PoolEngine()),
               ("explore, Dask LocalCluster", lambda: DaskEngine(local=os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as folder:
        for i, (label, make) in enumerate(engines):
            cold()
            used = cpu()
            engine = make()
            try:
                with Store(os.path.join(folder, f"{i}.sqlite")) as store:
                    start = time.perf_counter()
                    summary = run_study(study, store, engine, progress=False)
                    wall = time.perf_counter() - start
            finally:
                engine.close()
            line(label, summary["new"], wall, cpu() - used, base,
                 f"({summary['new']} points, {engine.workers} workers)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
