"""Time CIM inference of a VGG-8-sized conv layer against plain conv2d in the same run, five runs in a row.

Layer: VGG-8's second convolution (128 -> 128 channels, 3x3, 32x32 input, padding 1), batch 8,
8-bit weights on 1-bit cells (8 slices), 8-bit inputs applied bit-serially, 128-row subarrays
(9 row groups), on/off ratio 10, the default read-out (reference subtracted before the ADC,
per-slice calibrated 5-bit ranges). Bit-serial with 8 one-bit cell slices does 64x the multiply
work of the same layer as an im2col GEMM (unfold + matmul), which is the floor; conv2d itself may
use Winograd and do fewer multiplies still. Both ratios are printed, with the matmul operand type
chosen by measurement (cimgraph.accuracy.kernels: int8, bfloat16, float32, or input cycles packed
into one int8 or float32 operand) and the spread of the ratio over the runs. Fast
mode is timed with a full-range 8-bit ADC, which provably cannot clip a 128-row, 1-bit-cell
partial sum, so the 8 input cycles fold into one. ``--neurosim`` also times the neurosim profile
(float64, per-conversion min/max ADC) once.

    OMP_NUM_THREADS=1 python benchmarks/bench_accuracy.py [--runs 5] [--repeat 3] [--device cpu] [--neurosim]
"""
from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from cimgraph.accuracy import kernels
from cimgraph.accuracy.cim_layer import build_array
from cimgraph.accuracy.config import CimConfig


def best_time(function, repeat: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--neurosim", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device(args.device)
    x = torch.randint(0, 256, (8, 128, 32, 32), dtype=torch.float32, device=device)
    q = torch.randint(-127, 128, (128, 128, 3, 3), dtype=torch.float32, device=device)
    cols = F.unfold(x, 3, padding=1)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15 min)")
    reference = F.conv2d(x.double(), q.double(), padding=1)
    cells = dict(rows=128, state_off=1e-5, state_on=1e-4, state_unit="S")
    cases = [("bit-serial, 5-bit ADC (default read-out)", CimConfig(adc_bits=5, **cells), False),
             ("bit-serial, 8-bit ADC", CimConfig(adc_bits=8, adc_range="full", **cells), False),
             ("fast (folded), 8-bit ADC", CimConfig(adc_bits=8, adc_range="full", **cells), True)]
    arrays = []
    for label, config, fast in cases:
        array = build_array(q.reshape(128, -1).cpu(), config, device=device)
        array.matmul(cols[:1], observe=True)  # calibrate the ADC ranges on one image
        array.calibrate_adc()
        out = array.matmul(cols, fast=fast).permute(0, 2, 1).reshape(reference.shape)
        error = float(((out - reference).norm() / reference.norm()))
        arrays.append((label, array, fast, "exact" if error == 0 else f"rel L2 {error:.3g}"))

    def plain():
        F.conv2d(x, q, padding=1)
        sync()

    def gemm():
        q.reshape(128, -1) @ cols
        sync()

    ratios: dict[str, list[float]] = {label: [] for label, *_ in arrays}
    for run in range(args.runs):
        base, floor = best_time(plain, args.repeat), best_time(gemm, args.repeat)
        line = [f"run {run + 1}: conv2d {base * 1e3:.1f} ms, im2col GEMM {floor * 1e3:.1f} ms"]
        for label, array, fast, exact in arrays:
            t = best_time(lambda: (array.matmul(cols, fast=fast), sync()), args.repeat)
            base = min(base, best_time(plain, args.repeat))  # conv2d around each case: a shared machine drifts
            ratios[label].append(t / base)
            line.append(f"  CIM {label}: {t * 1e3:.1f} ms = {t / base:.1f}x conv2d = {t / floor:.1f}x GEMM ({exact})")
        print("\n".join(line))
    paths = sorted({f"{dtype}".replace("torch.", "") + f" with {count} thread(s)"
                    + (f" x {workers} blocks at once" if workers > 1 else "") + f" for {shape} on {dev} "
                    f"({threads} configured, {'ADC converting' if converts else 'sums passed unchanged'})"
                    for (dev, _, shape, threads, converts), (dtype, count, workers) in kernels.choices().items()})
    print("operand chosen by measurement: " + ("; ".join(paths) if paths else "none (one exact candidate)"))
    for label, values in ratios.items():
        print(f"{label}: {min(values):.1f}x .. {max(values):.1f}x conv2d over {len(values)} runs "
              f"(spread {max(values) / min(values):.2f}x)")
    if args.neurosim:
        array = build_array(q.reshape(128, -1).cpu(), CimConfig(adc_bits=5, profile="neurosim", **cells),
                            device=device)
        start = time.perf_counter()
        array.matmul(cols)
        sync()
        t = time.perf_counter() - start
        print(f"neurosim profile, 5-bit: {t * 1e3:.0f} ms = {t / best_time(plain, args.repeat):.0f}x conv2d")
    print(f"load average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
