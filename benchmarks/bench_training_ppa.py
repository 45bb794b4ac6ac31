"""Speed of one VGG-8 training-PPA evaluation (DNN+NeuroSim V2 and POPU schemes) against one inference
evaluation of the same mapping in the same run.

Both time the scheduling of a mapped network (the mapping is done once, outside the timing); memoised circuit
primitives are cleared before every timed run. Issue 13's target: one training-PPA evaluation in milliseconds
(NeuroSim V2's C++ takes about 100 s per epoch estimate, seed 001 Fig. 34).

    python benchmarks/bench_training_ppa.py
"""
from __future__ import annotations

import os
import statistics
import time

import cimgraph
from cimgraph.components import circuit
from cimgraph.schedule.training import evaluate_training


def cold_caches() -> None:
    circuit.gate_area.cache_clear()
    circuit.repeated_wire.cache_clear()


def timed(fn, repeat: int = 7) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        cold_caches()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    network = cimgraph.bundled("vgg8")
    cases = (("netlists/vgg8_rram_32nm_train.yaml", "neurosim-v2"), ("netlists/neurotorch_flash_45nm.yaml", "popu"))
    print(f"machine load (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for path, scheme in cases:
        mapping = cimgraph.map_network(cimgraph.load_netlist(path), network)
        evaluate_training(mapping, scheme=scheme)   # warm imports
        inf_best, inf_median = timed(lambda: cimgraph.evaluate(mapping, schedule="layer"))
        tr_best, tr_median = timed(lambda: evaluate_training(mapping, scheme=scheme))
        print(f"{path} ({scheme}): training PPA {tr_best * 1e3:.1f} ms best / {tr_median * 1e3:.1f} ms median; "
              f"inference {inf_best * 1e3:.1f} ms best / {inf_median * 1e3:.1f} ms median; "
              f"ratio training / inference {tr_best / inf_best:.2f}x (best), {tr_median / inf_median:.2f}x (median)")


if __name__ == "__main__":
    main()
