"""Speed of one hybrid-chip evaluation (netlist load + hybrid mapping + scheduling) of the bundled ViT and BERT,
against VGG-8 on its single-design chip measured in the same run (the ratio is what to watch).

Memoised circuit primitives are cleared before every timed evaluation.

    python benchmarks/bench_hybrid.py
"""
from __future__ import annotations

import os
import sys

import cimgraph

sys.path.insert(0, os.path.dirname(__file__))
from bench_evaluate import best_of, cold_caches  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def timed(netlist: str, network: str) -> float:
    net = cimgraph.bundled(network)

    def one():
        cold_caches()
        cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(os.path.join(ROOT, netlist)), net))

    one()
    return best_of(one, repeat=5)[0]


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average)")
    base = timed("netlists/vgg8_rram_22nm.yaml", "vgg8")
    print(f"vgg8 on vgg8_rram_22nm (baseline): {base * 1e3:.1f} ms")
    for network in ("vit_tiny", "bert_tiny"):
        t = timed("netlists/hybrid_vit_22nm.yaml", network)
        print(f"{network} on hybrid_vit_22nm: {t * 1e3:.1f} ms = {t / base:.1f} x baseline")


if __name__ == "__main__":
    main()
