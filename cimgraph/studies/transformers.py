"""Transformer case studies (docs/transformers.md): run ``python -m cimgraph.studies.transformers --out DIR``.

1. DCIM vs ACIM macro across nodes 22 -> 1 nm (NeuroSim V1.4, TCAS-I 2024: digital CIM gains more from
   scaling than analog CIM): one 128 x 128 subarray with its own periphery, 8-bit inputs and weights,
   evaluated on a one-subarray chip: TOPS/W and TOPS/mm^2 of the macro.
2. NeuroSim V1.5's case study (seed 003: "ViTs show lower noise tolerance and area efficiency than CNNs"):
   a ViT and a CNN of similar parameter count, (a) on the hybrid 22 nm chip (TOPS/mm^2, TOPS/W), (b) trained on
   scikit-learn's digits and simulated under the same read noise / device variation.
"""
from __future__ import annotations

import argparse
import copy
import os
from typing import Any

MACRO_NODES = ("22nm", "14nm", "7nm", "5nm", "3nm", "2nm", "1nm")

ACIM_SUBARRAY = {"kind": "array.rram", "rows": 128, "columns": 128, "readout": "parallel",
                 "wl_decoder": {"kind": "decoder.wl"}, "wl_switch": {"kind": "switch.wl"},
                 "sl_switch": {"kind": "switch.sl"}, "mux": {"kind": "mux.column"},
                 "mux_decoder": {"kind": "decoder.mux"}, "adc": {"kind": "adc.flash", "bits": 5, "share": 8},
                 "shift_add": {"kind": "shiftadd.bank"}}
SRAM_ACIM_SUBARRAY = {**ACIM_SUBARRAY, "kind": "array.sram", "precharge": {"kind": "precharge.sram"}}
SRAM_ACIM_SUBARRAY.pop("sl_switch")
DCIM_SUBARRAY = {"kind": "array.dcim", "rows": 128, "columns": 128, "wl_decoder": {"kind": "decoder.wl"}}
MACROS = {"ACIM (RRAM 1T1R, 5-bit flash ADC)": ("rram.1t1r", ACIM_SUBARRAY),
          "ACIM (SRAM 8T, 5-bit flash ADC)": ("sram.8t", SRAM_ACIM_SUBARRAY),
          "DCIM (SRAM 6T, adder trees)": ("sram.6t", DCIM_SUBARRAY)}


def macro_netlist(cell: str, subarray: dict[str, Any], node: str) -> dict[str, Any]:
    """A chip of exactly one subarray (no buffers or links above it): the macro alone."""
    return {"name": f"macro-{subarray['kind']}-{node}", "technology": node, "cell": cell,
            "precision": {"weight": 8, "input": 8}, "clock": "1GHz",
            "mapping": {"method": "conventional", "duplication": False},
            "chip": {"tiles": 1, "tile": {"pes": 1, "pe": {"subarrays": 1, "subarray": copy.deepcopy(subarray)}}}}


def macro_figures(cell: str, subarray: dict[str, Any], node: str) -> tuple[float, float]:
    """(TOPS/W, TOPS/mm^2) of the macro: a 128-input x 16-output 8-bit layer over 64 vectors fills it."""
    import cimgraph
    from cimgraph.workload import Layer, Network

    chip = cimgraph.load_netlist(macro_netlist(cell, subarray, node), file=f"<macro {node}>")
    network = Network("macro", (Layer(name="mvm", kind="linear", in_channels=128, out_channels=16,
                                      input_size=(64, 1)),))
    result = cimgraph.evaluate(cimgraph.map_network(chip, network))
    return result.tops_per_w, result.tops_per_mm2


def node_sweep(nodes=MACRO_NODES) -> dict[str, list[tuple[float, float]]]:
    return {label: [macro_figures(cell, sub, node) for node in nodes] for label, (cell, sub) in MACROS.items()}


def vit_like() -> Any:
    """A CIFAR ViT (4x4 patches) with about VGG-8's 12.97 M weights: width 320, 10 blocks (12.31 M)."""
    from cimgraph.workload.transformer import vit

    return vit("vit_12m", width=320, depth=10, heads=5, mlp=1280)


def ppa_comparison(netlist: str = "netlists/hybrid_vit_22nm.yaml") -> list[tuple[str, str, int, Any]]:
    """VGG-8 and a ViT of similar parameter count on the hybrid chip, under NeuroSim's layer-by-layer
    schedule and the pipeline: (name, schedule, parameters, Result)."""
    import cimgraph
    from cimgraph.workload import bundled

    chip = cimgraph.load_netlist(netlist)
    out = []
    for network in (bundled("vgg8"), vit_like()):
        mapping = cimgraph.map_network(chip, network)
        for schedule in ("layer", "pipeline"):
            out.append((network.name, schedule, network.parameters, cimgraph.evaluate(mapping, schedule=schedule)))
    return out


def digits_models(seed: int = 0) -> tuple[Any, Any, Any]:
    """(data, CNN, ViT) trained on digits: the bundled digits CNN (3.8 k weights) and a ViT of 5.0 k
    (2x2 patches -> 17 tokens, width 16, 2 blocks, 2 heads, MLP 32)."""
    from cimgraph.accuracy.data import train, trained_digits_cnn
    from cimgraph.workload.torch_vit import ViT

    cnn, data = trained_digits_cnn(seed)
    vit = train(ViT(image=8, patch=2, channels=1, width=16, depth=2, heads=2, mlp=32, classes=10), data, seed,
                epochs=30)
    return data, cnn, vit


NOISE = (0.0, 0.02, 0.05, 0.1, 0.2)
SEEDS = (0, 1, 2)


def accuracy_sweep(effect: str = "read_noise", sigmas=NOISE, netlist: str = "netlists/hybrid_vit_22nm.yaml",
                   seeds=SEEDS) -> dict[str, list[list[float]]]:
    """CIM top-1 accuracy of the digits CNN and ViT under ``effect`` (read_noise | variation): for each model
    one list per sigma of the accuracies over ``seeds`` (each seed: its own training, split and devices)."""
    from tqdm import tqdm

    from cimgraph.accuracy.run import simulate_accuracy
    from cimgraph.accuracy.transformer import transformer_accuracy

    out: dict[str, list[list[float]]] = {"CNN": [[] for _ in sigmas], "ViT": [[] for _ in sigmas]}
    for seed in tqdm(seeds, desc=f"{effect} sweep (seeds)"):
        data, cnn, vit = digits_models(seed)
        for i, sigma in enumerate(sigmas):
            effects = {effect: sigma} if sigma else None
            out["CNN"][i].append(simulate_accuracy(cnn, data, netlist=netlist, effects=effects, progress=False,
                                                   seed=seed).cim)
            out["ViT"][i].append(transformer_accuracy(vit, data, netlist=netlist, effects=effects,
                                                      progress=False, seed=seed).cim)
    return out


def _figure(xs, series: dict[str, list[float]], xlabel: str, ylabel: str, log: bool = False):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.add_subplot()
    for label, ys in series.items():
        ax.plot(range(len(xs)) if not log else xs, ys, marker="o", label=label)
    if not log:
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    else:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the SVG figures")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "cimgraph"
    sweep = node_sweep()
    print("macro TOPS/W and TOPS/mm^2 by node:", ", ".join(MACRO_NODES))
    for label, rows in sweep.items():
        print(f"  {label}: " + "  ".join(f"{w:.1f}/{d:.2f}" for w, d in rows))
        gain_w, gain_d = rows[-1][0] / rows[0][0], rows[-1][1] / rows[0][1]
        print(f"    22 -> 1 nm: TOPS/W x{gain_w:.1f}, TOPS/mm^2 x{gain_d:.1f}")
    for index, name in ((0, "tops_per_w"), (1, "tops_per_mm2")):
        fig = _figure(MACRO_NODES, {k: [r[index] for r in v] for k, v in sweep.items()}, "node",
                      "TOPS/W" if index == 0 else "TOPS/mm^2")
        fig.axes[0].set_yscale("log")
        fig.savefig(os.path.join(args.out, f"transformers_macro_{name}.svg"))
    print("hybrid 22 nm chip:")
    for name, schedule, params, r in ppa_comparison():
        print(f"  {name} ({schedule}): {params / 1e6:.2f} M weights, {r.area * 1e6:.1f} mm^2, "
              f"{r.tops_per_w:.2f} TOPS/W, {r.tops_per_mm2:.4f} TOPS/mm^2, utilization {r.utilization * 100:.1f} %")
    for effect in ("read_noise", "variation"):
        acc = accuracy_sweep(effect)
        for model, runs in acc.items():
            print(f"{effect} {model}: " + "  ".join(f"sigma {s}: {sum(r) / len(r) * 100:.1f} % "
                                                    f"({min(r) * 100:.1f}-{max(r) * 100:.1f})"
                                                    for s, r in zip(NOISE, runs)))
        mean = {model: [sum(r) / len(r) for r in runs] for model, runs in acc.items()}
        fig = _figure(NOISE, mean, f"{effect.replace('_', ' ')} sigma",
                      f"CIM top-1 accuracy (digits, mean of {len(SEEDS)} seeds)")
        ax = fig.axes[0]
        for model, runs in acc.items():
            ax.fill_between(range(len(NOISE)), [min(r) for r in runs], [max(r) for r in runs], alpha=0.15)
        fig.savefig(os.path.join(args.out, f"transformers_{effect}.svg"))


if __name__ == "__main__":
    main()


def digits_vit() -> Any:
    """The digits ViT of :func:`digits_models` (trained, seed 0) prepared for the hybrid chip: its attention
    products run as DCIM integer products and its softmax / layer norm / GELU quantized
    (``cimgraph accuracy netlists/hybrid_vit_22nm.yaml --model cimgraph.studies.transformers:digits_vit``)."""
    from cimgraph.accuracy.transformer import prepare

    return prepare(digits_models(0)[2])
