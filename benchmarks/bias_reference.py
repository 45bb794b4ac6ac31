"""Systematic error (bias) of the CIM read-out vs the integer convolution, per reference scheme and ADC bits.

Issue 15's layer: one 128 -> 128 3x3 convolution (16x16 input, padding 1), 8-bit weights and inputs, 128-row
subarrays holding one kernel position each (9 subarrays), on/off ratio 10, 1-bit and 2-bit cells, bit-serial
inputs, linear ADC calibrated on a separate batch. Weights are uniform integers in +-127; inputs are uniform
8-bit integers. Prints, per ADC bits 3..6:

- bias = mean(y - y_int) / rms(y_int): the part of the error shared by every output;
- rel L2 = ||y - y_int|| / ||y_int||.

    python benchmarks/bias_reference.py

``--neurosim`` instead sets the ``neurosim`` profile beside NeuroSim V1.4's figures from issue 15 (ideal cells,
on/off 10 with 8-bit and 5-bit ADCs, 1-bit and 2-bit cells) on independent draws of the same layer (uniform integer
weights w = k/128, k in +-127; uniform 8-bit inputs), in each of the profile's arithmetics, then the 5-bit bias and
rel L2 over batch size and image size (the per-tensor min/max range spans batch x positions x columns):

    python benchmarks/bias_reference.py --neurosim [--draws 8]
"""
from __future__ import annotations

import argparse
import os
import statistics

import torch
import torch.nn.functional as F

from cimgraph.accuracy.cim_layer import build_array
from cimgraph.accuracy.config import CimConfig

SCHEMES = {
    "before: dummy, digital subtraction, one range per layer":
        {"subtraction": "digital", "adc_range": "calibrated", "error_calibration": False},
    "analog subtraction, range per slice": {"error_calibration": False},
    "default: analog subtraction, range per slice, mean-error calibration": {},
    "analog subtraction, range per slice, column dither": {"dither": True, "error_calibration": False},
    "neurosim profile (V1.4 wrapper: mid-range dummy, per-conversion min/max floor ADC)": {"profile": "neurosim"},
}


def layer_case(seed: int):
    g = torch.Generator().manual_seed(seed)
    q = torch.randint(-127, 128, (128, 128 * 9), generator=g).double()
    x = torch.randint(0, 256, (2, 128, 16, 16), generator=g).double()
    return q, F.unfold(x, 3, padding=1)


def measure(config: CimConfig, q, calibration, test) -> tuple[float, float]:
    array = build_array(q, config)
    array.matmul(calibration, observe=True)
    array.calibrate_adc()
    y = array.matmul(test)
    ref = torch.einsum("or,nrp->npo", q, test)
    err = y - ref
    rms = float(ref.pow(2).mean().sqrt())
    return float(err.mean()) / rms, float(err.norm() / ref.norm())


NEUROSIM_ROWS = (  # issue 15: NeuroSim V1.4 QConv2d on the layer, rel L2 and bias vs the integer conv (None: not given)
    ("ideal cells, no ADC", None, 1, None, 0.674, None),
    ("on/off 10, 8-bit ADC, 1-bit cells", 10.0, 1, 8, 3.96, None),
    ("on/off 10, 5-bit ADC, 1-bit cells", 10.0, 1, 5, 35.7, -31.4),
    ("on/off 10, 5-bit ADC, 2-bit cells", 10.0, 2, 5, 29.1, None),
)


def draw(seed: int, batch: int, size: int):
    """One draw of the layer: weights (128, 128*9) and unfolded inputs of a batch of size x size images."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randint(-127, 128, (128, 128 * 9), generator=g).double()
    x = torch.randint(0, 256, (batch, 128, size, size), generator=g).double()
    return q, F.unfold(x, 3, padding=1)


def profile_error(q, x, ratio, bits_per_cell, adc_bits, arithmetic="exact") -> tuple[float, float]:
    """(bias, rel L2) of the neurosim profile against the integer product, in %."""
    rows = [[c * 9 + p for c in range(128)] for p in range(9)]  # one kernel position per subarray
    off = 0.0 if ratio is None else 1e-4 / ratio
    config = CimConfig(rows=128, row_groups=rows, bits_per_cell=bits_per_cell, adc_bits=adc_bits, state_off=off,
                       state_on=1e-4, state_unit="S", profile="neurosim", arithmetic=arithmetic)
    y = build_array(q, config).matmul(x)
    ref = torch.einsum("or,nrp->npo", q, x)
    err = y - ref
    return 100 * float(err.mean() / ref.pow(2).mean().sqrt()), 100 * float(err.norm() / ref.norm())


def dummy_ties(x, adc_bits: int, bit: int = 7) -> float:
    """Share of the dummy column's sums (active rows n, one per sample and position) on a bin edge of their
    conversion tensor, for input bit ``bit``, over the 9 kernel positions: 2^bits (n - min) / (max - min) whole."""
    active = ((x.to(torch.int64) >> bit) & 1).view(x.shape[0], 128, 9, -1).sum(1)  # (N, 9, P)
    low = active.amin(dim=(0, 2), keepdim=True)
    span = active.amax(dim=(0, 2), keepdim=True) - low
    return float(((active - low) * 2**adc_bits % span.clamp_min(1) == 0).double().mean())


def spread(values: list[float], signed: bool = False) -> str:
    form = "{:+.1f}" if signed else "{:.2f}"
    mean, low, high = (form.format(v) for v in (statistics.mean(values), min(values), max(values)))
    return f"{mean} ({low} .. {high})" if len(values) > 1 else mean


def neurosim_tables(draws: int) -> None:
    batch, size = 2, 16
    print(f"Issue 15's layer, batch {batch}, {size}x{size} input, {draws} draws: mean (min .. max), rel L2 / bias in %")
    print("| case | NeuroSim V1.4 (issue 15) | " + " | ".join(f"profile, {a}" for a in ("exact", "float32", "tf32"))
          + " |")
    print("| --- | --- | --- | --- | --- |")
    cases = [draw(seed, batch, size) for seed in range(draws)]
    per_draw = {}
    for name, ratio, cells, adc_bits, rel, bias in NEUROSIM_ROWS:
        figures = []
        for arithmetic in ("exact", "float32", "tf32"):
            runs = [profile_error(q, x, ratio, cells, adc_bits, arithmetic) for q, x in cases]
            figures.append(f"{spread([r for _, r in runs])} / {spread([b for b, _ in runs], True)}")
            if arithmetic == "exact":
                per_draw[name] = runs
        given = f"{rel} %" + (f" / {bias:+.1f} %" if bias is not None else "")
        print(f"| {name} | {given} | " + " | ".join(figures) + " |")
    print("\nPer draw (exact): rel L2 % of the four rows, 5-bit 1-bit bias %, and the share of MSB-bit dummy sums that "
          "sit exactly on a 5-bit bin edge")
    print("| draw | ideal | 8-bit | 5-bit, 1-bit cells | 5-bit, 2-bit cells | dummy sums on an edge |")
    print("| --- | --- | --- | --- | --- | --- |")
    for seed, (_, x) in enumerate(cases):
        rels = [per_draw[row[0]][seed][1] for row in NEUROSIM_ROWS]
        bias = per_draw[NEUROSIM_ROWS[2][0]][seed][0]
        print(f"| {seed} | {rels[0]:.3f} | {rels[1]:.2f} | {rels[2]:.2f} ({bias:+.1f}) | {rels[3]:.2f} | "
              f"{100 * dummy_ties(x, 5):.0f} % |")
    print(f"\n5-bit ADC, on/off 10, exact arithmetic, {max(2, draws // 2)} draws per size: rel L2 / bias in %")
    print("| batch x image | samples per conversion | 1-bit cells | 2-bit cells |")
    print("| --- | --- | --- | --- |")
    for batch in (1, 4, 8):
        for size in (8, 16, 32):
            cells = []
            for bits_per_cell in (1, 2):
                runs = [profile_error(*draw(seed, batch, size), 10.0, bits_per_cell, 5)
                        for seed in range(max(2, draws // 2))]
                cells.append(f"{spread([r for _, r in runs])} / {spread([b for b, _ in runs], True)}")
            print(f"| {batch} x {size}x{size} | {batch * size * size * 128} | " + " | ".join(cells) + " |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurosim", action="store_true", help="the neurosim profile against issue 15's figures")
    parser.add_argument("--draws", type=int, default=8, help="independent draws of the layer (--neurosim)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    if args.neurosim:
        neurosim_tables(args.draws)
        return
    q, calibration = layer_case(0)
    _, test = layer_case(1)
    rows = [[c * 9 + p for c in range(128)] for p in range(9)]  # one kernel position per subarray
    print("| scheme | cells | " + " | ".join(f"{b}-bit bias / rel L2" for b in (3, 4, 5, 6)) + " |")
    print("| --- | --- |" + " --- |" * 4)
    for name, overrides in SCHEMES.items():
        for bits_per_cell in (1, 2):
            cells = []
            for adc_bits in (3, 4, 5, 6):
                config = CimConfig(rows=128, row_groups=rows, bits_per_cell=bits_per_cell, adc_bits=adc_bits,
                                   state_off=1e-5, state_on=1e-4, state_unit="S", **overrides)
                bias, rel = measure(config, q, calibration, test)
                cells.append(f"{100 * bias:+.1f} % / {100 * rel:.1f} %")
            print(f"| {name} | {bits_per_cell}-bit | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
