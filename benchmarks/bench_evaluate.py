"""Speed of one chip evaluation (netlist load + mapping + scheduling) of VGG-8, and of a sweep.

Prints per-evaluation time, peak memory, and ratios against a baseline measured in the same run:
the bare cost of reading the netlist YAML (the floor any evaluation pays). Memoised circuit
primitives are cleared before every timed evaluation, so nothing carries over between chips. Targets on a 2-core
machine (issue 6): one VGG-8 evaluation < 50 ms and < 150 MB resident; 100 chips < 5 s.

    python benchmarks/bench_evaluate.py [netlist]
"""
from __future__ import annotations

import resource
import statistics
import sys
import time

import yaml

import cimgraph
from cimgraph.components import circuit
from cimgraph.schedule.sweep import grid


def cold_caches() -> None:
    """Forget memoised circuit primitives so every timed evaluation computes its models afresh."""
    circuit.gate_area.cache_clear()
    circuit.repeated_wire.cache_clear()


def best_of(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(path: str = "netlists/vgg8_rram_22nm.yaml") -> None:
    network = cimgraph.bundled("vgg8")
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)

    def baseline():
        with open(path, encoding="utf-8") as handle:
            yaml.safe_load(handle)

    def one():
        cold_caches()
        chip = cimgraph.load_netlist(path)
        return cimgraph.evaluate(cimgraph.map_network(chip, network))

    one()  # warm imports and the plugin registry (paid once per process)
    base, _ = best_of(baseline)
    best, median = best_of(one)
    axes = {"chip.tile.pe.subarray.adc.bits": [3, 4, 5, 6, 7], "chip.tile.pe.subarray.rows": [64, 128, 256, 512],
            "technology": ["45nm", "32nm", "22nm", "14nm", "7nm"]}
    points = list(grid(raw, axes))
    assert len(points) == 100
    start = time.perf_counter()
    for _, variant in points:
        cold_caches()
        cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(variant), network))
    sweep = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"baseline (read netlist YAML):      {base * 1e3:8.2f} ms")
    print(f"one VGG-8 evaluation (best/median): {best * 1e3:8.2f} / {median * 1e3:.2f} ms  "
          f"= {best / base:.1f}x baseline; target 50 ms -> {best / 0.050:.2f} of target")
    print(f"100-chip sweep:                     {sweep:8.2f} s   = {sweep / 100 * 1e3:.2f} ms per chip, "
          f"{sweep / 100 / base:.1f}x baseline; target 5 s -> {sweep / 5:.2f} of target")
    print(f"peak resident memory:               {peak_mb:8.1f} MB (target 150 MB)")


if __name__ == "__main__":
    main(*sys.argv[1:])
