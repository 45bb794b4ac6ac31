"""Systematic error (bias) of the CIM read-out vs the integer convolution, per reference scheme and ADC bits.

Issue 15's layer: one 128 -> 128 3x3 convolution (16x16 input, padding 1), 8-bit weights and inputs, 128-row
subarrays holding one kernel position each (9 subarrays), on/off ratio 10, 1-bit and 2-bit cells, bit-serial
inputs, linear ADC calibrated on a separate batch. Weights are uniform integers in +-127; inputs are uniform
8-bit integers. Prints, per ADC bits 3..6:

- bias = mean(y - y_int) / rms(y_int): the part of the error shared by every output;
- rel L2 = ||y - y_int|| / ||y_int||.

    python benchmarks/bias_reference.py
"""
from __future__ import annotations

import os

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


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
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
