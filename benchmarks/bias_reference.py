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
weights w = k/128, k in +-127; uniform 8-bit inputs), in each of the profile's arithmetics: first draw 0 (the issue's
data) beside an independent float32 ``F.conv2d`` rendering of the wrapper's loop, then the spread over draws, per-draw
figures with the dummy column's bin-edge ties, and the 5-bit bias and rel L2 over batch size and image size (the
per-tensor min/max range spans batch x positions x columns):

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
    """One draw of the layer: weights (128, 128*9) and a batch of size x size 8-bit images (128 channels)."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randint(-127, 128, (128, 128 * 9), generator=g).double()
    return q, torch.randint(0, 256, (batch, 128, size, size), generator=g).double()


def wrapper_conv2d(q, images, ratio, bits_per_cell, adc_bits) -> torch.Tensor:
    """V1.4's QConv2d hardware loop rendered without cimgraph, in float32 with F.conv2d as the issue ran it on
    this CPU: per input bit, kernel position and slice, a conv2d with the masked states (1 - 1/R) r + (L-1)/R
    and one with the dummy (L-1)(1 + 1/R)/2, each floored on its whole output's min..max (LinearQuantizeOut),
    scaled and summed. Output (N, P, O) in the profile's integer units (NeuroSim's x 2^15)."""
    lower, levels = (0.0 if ratio is None else 1 / ratio), 2**bits_per_cell
    w = (q.view(128, 128, 3, 3) / 128).float()
    code, states = torch.round(127.5 * (w + 1)), []
    for _ in range(8 // bits_per_cell):
        digit = torch.fmod(code, levels)
        code = torch.round((code - digit) / levels)
        states.append(digit * (1 - lower) + (levels - 1) * lower)
    dummy = torch.full_like(w, (levels - 1) * (1 + lower) / 2)

    def adc(t):
        low, span = t.min().item(), (t.max() - t.min()).item()
        if adc_bits is None or span == 0:
            return t.double()
        step = span / 2**adc_bits
        return (torch.clamp(torch.floor((t - low) / step), 0, 2**adc_bits - 1) * step + low).double()

    out = 0.0
    for z in range(8):
        bit = torch.fmod(torch.floor(images.float() / 2**z), 2)
        for position in range(9):
            mask = torch.zeros_like(w)
            mask.view(128, 128, 9)[:, :, position] = 1
            reference = adc(F.conv2d(bit, dummy * mask, padding=1))
            for k, state in enumerate(states):
                data = adc(F.conv2d(bit, state * mask, padding=1))
                out = out + 2**z * levels**k / (1 - lower) * (data - reference)
    return out.flatten(2).transpose(1, 2)


def errors(y, q, x) -> tuple[float, float]:
    """(bias, rel L2) in % of y (N, P, O) against the integer product of q and the unfolded inputs x."""
    ref = torch.einsum("or,nrp->npo", q, x)
    err = y - ref
    return 100 * float(err.mean() / ref.pow(2).mean().sqrt()), 100 * float(err.norm() / ref.norm())


def profile_error(q, images, ratio, bits_per_cell, adc_bits, arithmetic="exact") -> tuple[float, float]:
    """(bias, rel L2) of the neurosim profile against the integer product, in %."""
    rows = [[c * 9 + p for c in range(128)] for p in range(9)]  # one kernel position per subarray
    off = 0.0 if ratio is None else 1e-4 / ratio
    config = CimConfig(rows=128, row_groups=rows, bits_per_cell=bits_per_cell, adc_bits=adc_bits, state_off=off,
                       state_on=1e-4, state_unit="S", profile="neurosim", arithmetic=arithmetic)
    x = F.unfold(images, 3, padding=1)
    return errors(build_array(q, config).matmul(x), q, x)


def dummy_ties(images, adc_bits: int, bit: int = 7) -> float:
    """Share of the dummy column's sums (active rows n, one per sample and position) on a bin edge of their
    conversion tensor, for input bit ``bit``, over the 9 kernel positions: 2^bits (n - min) / (max - min) whole."""
    x = F.unfold(images, 3, padding=1)
    active = ((x.to(torch.int64) >> bit) & 1).view(x.shape[0], 128, 9, -1).sum(1)  # (N, 9, P)
    low = active.amin(dim=(0, 2), keepdim=True)
    span = active.amax(dim=(0, 2), keepdim=True) - low
    return float(((active - low) * 2**adc_bits % span.clamp_min(1) == 0).double().mean())


def float32_ties_broken(images, adc_bits: int, bit: int = 7) -> tuple[float, float]:
    """Share of those on-edge dummy sums that float32 floors one bin low, with the sums n x 0.55 (1-bit cells,
    on/off 10, NeuroSim's units) accumulated as a matrix product (torch.bmm) and as a reduction (torch.sum)."""
    x = F.unfold(images, 3, padding=1)
    active = ((x.to(torch.int64) >> bit) & 1).view(x.shape[0], 128, 9, -1).permute(2, 0, 3, 1)  # (9, N, P, 128)
    active = active.reshape(9, -1, 128)
    counts = active.sum(-1, keepdim=True)
    low, high = counts.amin(1, keepdim=True), counts.amax(1, keepdim=True)
    exact = (counts - low) * 2**adc_bits
    on_edge = exact % (high - low).clamp_min(1) == 0
    want = exact // (high - low).clamp_min(1)
    c = torch.full((9, 128, 1), 0.55, dtype=torch.float32)
    shares = []
    for sums in (torch.bmm(active.float(), c), (active.float() * c.view(9, 1, 128)).sum(-1, keepdim=True)):
        lo, hi = sums.amin(1, keepdim=True), sums.amax(1, keepdim=True)
        got = torch.floor((sums - lo) / ((hi - lo) / 2**adc_bits))
        shares.append(float((on_edge & (got < want)).sum() / on_edge.sum()))
    return shares[0], shares[1]


def spread(values: list[float], signed: bool = False) -> str:
    form = "{:+.1f}" if signed else "{:.2f}"
    mean, low, high = (form.format(v) for v in (statistics.mean(values), min(values), max(values)))
    return f"{mean} ({low} .. {high})" if len(values) > 1 else mean


def neurosim_tables(draws: int) -> None:
    batch, size = 2, 16
    cases = [draw(seed, batch, size) for seed in range(draws)]
    q, images = cases[0]
    print(f"Draw 0 (torch.Generator seed 0: weights, then inputs), batch {batch}, {size}x{size}: rel L2 % (bias %)")
    print("| case | NeuroSim V1.4 (issue 15) | wrapper loop, float32 F.conv2d | profile, exact | profile, float32 | "
          "profile, tf32 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, ratio, cells, adc_bits, rel, bias in NEUROSIM_ROWS:
        figures = [errors(wrapper_conv2d(q, images, ratio, cells, adc_bits), q, F.unfold(images, 3, padding=1))]
        figures += [profile_error(q, images, ratio, cells, adc_bits, a) for a in ("exact", "float32", "tf32")]
        given = f"{rel}" + (f" ({bias:+.1f})" if bias is not None else "")
        print(f"| {name} | {given} | " + " | ".join(f"{r:.3f} ({b:+.1f})" for b, r in figures) + " |", flush=True)
    print(f"\nIssue 15's layer, batch {batch}, {size}x{size}, {draws} draws: mean (min .. max), rel L2 / bias in %")
    print("| case | NeuroSim V1.4 (issue 15) | " + " | ".join(f"profile, {a}" for a in ("exact", "float32", "tf32"))
          + " |")
    print("| --- | --- | --- | --- | --- |")
    per_draw = {}
    for name, ratio, cells, adc_bits, rel, bias in NEUROSIM_ROWS:
        figures = []
        for arithmetic in ("exact", "float32", "tf32"):
            runs = [profile_error(q, images, ratio, cells, adc_bits, arithmetic) for q, images in cases]
            figures.append(f"{spread([r for _, r in runs])} / {spread([b for b, _ in runs], True)}")
            if arithmetic == "exact":
                per_draw[name] = runs
        given = f"{rel} %" + (f" / {bias:+.1f} %" if bias is not None else "")
        print(f"| {name} | {given} | " + " | ".join(figures) + " |")
    print("\nPer draw (exact): rel L2 % of the four rows, 5-bit 1-bit bias %, the share of MSB-bit dummy sums exactly "
          "on a 5-bit bin edge, and the share of those that float32 floors one bin low (sums by torch.bmm / torch.sum)")
    print("| draw | ideal | 8-bit | 5-bit, 1-bit cells | 5-bit, 2-bit cells | dummy sums on an edge | float32 breaks |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for seed, (_, images) in enumerate(cases):
        rels = [per_draw[row[0]][seed][1] for row in NEUROSIM_ROWS]
        bias = per_draw[NEUROSIM_ROWS[2][0]][seed][0]
        by_bmm, by_sum = float32_ties_broken(images, 5)
        print(f"| {seed} | {rels[0]:.3f} | {rels[1]:.2f} | {rels[2]:.2f} ({bias:+.1f}) | {rels[3]:.2f} | "
              f"{100 * dummy_ties(images, 5):.0f} % | {100 * by_bmm:.0f} % / {100 * by_sum:.0f} % |")
    print(f"\n5-bit ADC, on/off 10, exact arithmetic, {max(2, draws // 2)} draws per size: rel L2 / bias in %")
    print("| batch x image | samples per conversion | 1-bit cells | 2-bit cells |")
    print("| --- | --- | --- | --- |")
    sizes = [(batch, size) for batch in (1, 4, 8) for size in (8, 16, 32)] + [(32, 16), (64, 8)]
    for batch, size in sizes:  # at most 8,192 positions: the float64 partial sums of one input bit fit in 0.6 GB
        cells = []
        for bits_per_cell in (1, 2):
            runs = [profile_error(*draw(seed, batch, size), 10.0, bits_per_cell, 5)
                    for seed in range(max(2, draws // 2))]
            cells.append(f"{spread([r for _, r in runs])} / {spread([b for b, _ in runs], True)}")
        print(f"| {batch} x {size}x{size} | {batch * size * size * 128} | " + " | ".join(cells) + " |", flush=True)


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
