"""On-chip training accuracy curves on digits for docs/training.md (prints Markdown tables).

    python benchmarks/training_curves.py            # every table (a few minutes on 2 cores)
    python benchmarks/training_curves.py nl c2c     # some of them: nl c2c d2d levels adc popu

Common setting: the bundled digits MLP (64-64-10) on netlists/vgg8_rram_22nm.yaml (its rram.1t1r
cell: 128 LTP/LTD levels, NL +0.01/-0.01, on/off 10), scheme V2, batch 32, WAGE Q_G with
wl_grad 8 and lr 0.05 (the largest step per update is 5 % of the weight range, about 3 pulses),
float weight read-out (wl_weight -1: the device's levels limit precision), 8-bit inputs, ADC
``none`` unless the table varies it; test accuracy (500 images) after EPOCHS epochs, mean of SEEDS.
"""
from __future__ import annotations

import statistics
import sys
import time

from cimgraph.training import train_on_chip

NETLIST = "netlists/vgg8_rram_22nm.yaml"
EPOCHS = 8
SEEDS = (0, 1)
BASE = dict(model="digits-mlp", netlist=NETLIST, epochs=EPOCHS, lr=0.05, wl_grad=8, wl_weight=-1, progress=False)


def accuracy(**settings) -> float:
    runs = [train_on_chip(**{**BASE, **settings, "seed": seed}).final_accuracy for seed in SEEDS]
    return 100 * statistics.mean(runs)


def row(label: str, values) -> str:
    return f"| {label} | " + " | ".join(f"{v:.1f}" for v in values) + " |"


def table(title: str, column: str, keys, rows: dict[str, dict]) -> list[str]:
    lines = [f"### {title}", "", f"| {column} | " + " | ".join(str(k) for k in keys) + " |",
             "| --- |" + " --- |" * len(keys)]
    for label, make in rows.items():
        lines.append(row(label, [accuracy(**make(k)) for k in keys]))
    return lines + [""]


def nl() -> list[str]:
    keys = [0, 1, 2, 3, 4, 5, 6]
    sym = lambda n: dict(nonlinearity_ltp=float(n), nonlinearity_ltd=-float(n))  # noqa: E731
    return table("Non-linearity (LTP +N, LTD -N)", "N", keys, {
        "plain": sym, "momentum 0.9": lambda n: {**sym(n), "momentum": 0.9}})


def c2c() -> list[str]:
    keys = [0.0, 0.005, 0.01, 0.02, 0.03]
    return table("Cycle-to-cycle variation (sigma per pulse, fraction of the range)", "sigma_c2c", keys, {
        "NL +-0.01": lambda s: dict(sigma_c2c=s), "NL +-2, momentum 0.9": lambda s: dict(
            sigma_c2c=s, nonlinearity_ltp=2.0, nonlinearity_ltd=-2.0, momentum=0.9)})


def d2d() -> list[str]:
    keys = [0.0, 0.5, 1.0, 2.0]
    return table("Device-to-device variation (sigma of the NL label, label steps)", "nonlinearity_d2d", keys, {
        "NL +-2": lambda s: dict(nonlinearity_d2d=s, nonlinearity_ltp=2.0, nonlinearity_ltd=-2.0),
        "NL +-2, momentum 0.9": lambda s: dict(nonlinearity_d2d=s, nonlinearity_ltp=2.0, nonlinearity_ltd=-2.0,
                                                momentum=0.9)})


def levels() -> list[str]:
    keys = [32, 64, 128, 256]
    return table("Conductance levels (P_max of LTP and LTD)", "levels", keys, {
        "NL +-0.01": lambda p: dict(levels_ltp=float(p), levels_ltd=float(p)),
        "NL +-2": lambda p: dict(levels_ltp=float(p), levels_ltd=float(p), nonlinearity_ltp=2.0,
                                 nonlinearity_ltd=-2.0)})


def adc() -> list[str]:
    keys = [3, 4, 5, 6, 7, 8, 10]
    common = dict(wl_weight=5, wl_activate=8, wl_error=8)
    return table("ADC bits during training (5-bit weights in one analog cell, 8-bit inputs and errors)",
                 "ADC bits", keys, {
                     "approximated (NeuroTorch)": lambda b: dict(common, adc="approx", adc_bits=b),
                     "exact bit-serial": lambda b: dict(common, adc="exact", adc_bits=b)}) + [
        f"No ADC (ideal read-out), same widths: {accuracy(**common):.1f} %", ""]


POPU = dict(scheme="popu", lr=0.005, update_max=0.01)  # batch 1: 32x the steps of V2, so a smaller lr


def popu() -> list[str]:
    lines = ["### POPU against V2 (same model and device)", "",
             "| scheme | accuracy after 4 epochs | epochs to 95 % of its best | time per epoch (s) |",
             "| --- | --- | --- | --- |"]
    for label, settings in {"V2, batch 32": {}, "POPU LTP_only": POPU,
                            "POPU LTD_only": dict(POPU, popu_mode="LTD_only"),
                            "POPU LTPLTD_both": dict(POPU, popu_mode="LTPLTD_both")}.items():
        runs, start = [], time.perf_counter()
        for seed in SEEDS:
            runs.append(train_on_chip(**{**BASE, "epochs": 4, **settings, "seed": seed}))
        seconds = (time.perf_counter() - start) / (4 * len(SEEDS))
        acc = statistics.mean(100 * r.final_accuracy for r in runs)
        epochs = statistics.mean(r.epochs_to(0.95) for r in runs)
        lines.append(f"| {label} | {acc:.1f} | {epochs:.1f} | {seconds:.2f} |")
    return lines + [""]


SECTIONS = {"nl": nl, "c2c": c2c, "d2d": d2d, "levels": levels, "adc": adc, "popu": popu}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    start = time.perf_counter()
    for name in chosen:
        print("\n".join(SECTIONS[name]()), flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")
