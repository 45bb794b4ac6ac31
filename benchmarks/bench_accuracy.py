"""Time CIM inference of a VGG-8-sized conv layer against plain conv2d in the same run.

Layer: VGG-8's second convolution (128 -> 128 channels, 3x3, 32x32 input, padding 1), batch 8,
8-bit weights on 1-bit cells (8 slices), 8-bit inputs applied bit-serially, 128-row subarrays
(9 row groups), 5-bit linear ADC. Bit-serial with 8 one-bit cell slices does 64x the multiply
work of the same layer as an im2col GEMM (unfold + matmul), which is the floor; conv2d itself
may use Winograd and do fewer multiplies still. Both ratios are printed. Fast mode is timed with an 8-bit ADC, which provably cannot
clip a 128-row, 1-bit-cell partial sum, so the 8 input cycles fold into one.

    python benchmarks/bench_accuracy.py [--repeat 3] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from cimgraph.accuracy.cim_layer import CimArray
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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device(args.device)
    x = torch.randint(0, 256, (8, 128, 32, 32), dtype=torch.float32, device=device)
    q = torch.randint(-127, 128, (128, 128, 3, 3), dtype=torch.float32, device=device)
    cols = F.unfold(x, 3, padding=1)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def plain():
        F.conv2d(x, q, padding=1)
        sync()

    def gemm():
        q.reshape(128, -1) @ cols
        sync()

    base, floor = best_time(plain, args.repeat), best_time(gemm, args.repeat)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    print(f"plain conv2d (batch 8, 128->128, 3x3, 32x32): {base * 1e3:.1f} ms; "
          f"im2col GEMM of the same layer: {floor * 1e3:.1f} ms")
    reference = F.conv2d(x.double(), q.double(), padding=1)
    cases = [("bit-serial, 5-bit ADC", CimConfig(rows=128, adc_bits=5, adc_range="full"), False),
             ("bit-serial, 8-bit ADC", CimConfig(rows=128, adc_bits=8, adc_range="full"), False),
             ("fast (folded), 8-bit ADC", CimConfig(rows=128, adc_bits=8, adc_range="full"), True)]
    for label, config, fast in cases:
        array = CimArray(q.reshape(128, -1).cpu(), config, device=device)
        array.calibrate_adc()

        def cim():
            array.matmul(cols, fast=fast)
            sync()

        t = best_time(cim, args.repeat)
        base = min(base, best_time(plain, args.repeat))  # re-measured: a shared machine drifts
        floor = min(floor, best_time(gemm, args.repeat))
        out = array.matmul(cols, fast=fast).permute(0, 2, 1).reshape(reference.shape)
        exact = "exact" if torch.equal(out, reference) else f"max error {float((out - reference).abs().max()):.3g}"
        print(f"CIM {label}: {t * 1e3:.1f} ms = {t / base:.1f}x conv2d = {t / floor:.1f}x im2col GEMM "
              f"({exact} vs integer conv2d)")


if __name__ == "__main__":
    main()
