"""Cost of hostile inputs against the cost of ordinary ones, measured in the same run (issue 12).

* the alias "billion laughs" bomb, deep nesting and a duplicate-key file are refused by the bounded
  loader: their time is printed as a ratio to loading the bundled VGG-8 netlist's YAML (the bomb must
  fail in < 1 s and < 100 MB on the CI machine);
* a network that needs ~11,000 tiles on the bundled netlist (map + evaluate + HTML report) against the
  same for VGG-8 (366 tiles): the issue asks < 60 s and < 500 MB for `cimgraph run --report` on it.

    python benchmarks/bench_hostile.py
"""
from __future__ import annotations

import os
import resource
import tempfile
import time
import tracemalloc

import cimgraph
from cimgraph import safe_yaml
from cimgraph.errors import InputError
from cimgraph.report import render_report
from cimgraph.workload import read_network_csv

NETLIST = "netlists/vgg8_rram_22nm.yaml"
BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "\n".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi"))
        + "\nchip: *i\n")
HOSTILE = {"alias bomb": BOMB, "nesting 10^5 deep": "a: " + "[" * 100_000,
           "5,000-digit integer": "a: " + "9" * 5000, "duplicate key": "a: 1\nb: 2\na: 3\n"}
BIG_NETWORK = "32,32,3,3,3,128,0,1\n32,32,128,3,3,256,1,1\n1,1,40700,1,1,10000,0,1\n1,1,10000,1,1,10,0,1\n"


def timed(fn):
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def refuse(text: str) -> None:
    try:
        safe_yaml.load(text)
    except InputError:
        return
    raise AssertionError("hostile YAML was accepted")


def run(network, folder: str) -> int:
    chip = cimgraph.load_netlist(NETLIST)
    mapping = cimgraph.map_network(chip, network)
    result = cimgraph.evaluate(mapping)
    render_report(result, os.path.join(folder, "report.html"))
    return mapping.tiles_used


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average)")
    text = open(NETLIST, encoding="utf-8").read()
    base, _ = timed(lambda: safe_yaml.load(text))
    print(f"baseline: load {NETLIST} YAML {base * 1e3:.2f} ms")
    for name, hostile in HOSTILE.items():
        elapsed, peak = timed(lambda: refuse(hostile))
        print(f"  {name:22} refused in {elapsed * 1e3:8.2f} ms ({elapsed / base:6.2f} x baseline), "
              f"peak {peak / 1e6:6.2f} MB")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.csv")
        with open(path, "w") as handle:
            handle.write(BIG_NETWORK)
        start = time.perf_counter()
        tiles = run(cimgraph.bundled("vgg8"), folder)
        vgg = time.perf_counter() - start
        print(f"baseline: vgg8 ({tiles} tiles) map + evaluate + report {vgg:.2f} s")
        start = time.perf_counter()
        tiles = run(read_network_csv(path), folder)
        big = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  big network ({tiles} tiles) map + evaluate + report {big:.2f} s ({big / vgg:.2f} x baseline); "
          f"process peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
