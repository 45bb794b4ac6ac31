"""Time one on-chip training epoch on digits against a plain torch epoch in the same run.

Model: the bundled digits CNN (conv 1->8, conv 8->16, max-pool, linear 256->10) on
netlists/vgg8_rram_22nm.yaml (128-row subarrays, novel mapping), 1297 training images, batch 32
(41 update steps), V2 scheme with the netlist's device (128 levels, eq. 8.1-8.3 update per step),
5-bit weights in one analog cell, 8-bit inputs and errors (WAGE), 8-bit gradients, ADC bits from
``--adc-bits`` (default: the netlist's 5). Three ways:

- plain torch: the same model, torch.optim.SGD, the same batches, float32;
- approximated ADC (NeuroTorch): one quantisation of each layer's integrated sum, forward and back;
- exact: every product bit-serially through CimArray (per-subarray ADC, shift-and-add), the
  error product through the transposed arrays; the ADC range is calibrated once per epoch.

Each figure is the best of ``--repeat`` epochs after a warm-up epoch; the ratios are to plain torch.

    python benchmarks/bench_training.py [--repeat 2] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from cimgraph.accuracy.data import digits
from cimgraph.training.loop import _seeded_init, batch_order, bundled_model, resolve_device, train_on_chip

NETLIST = "netlists/vgg8_rram_22nm.yaml"


def plain_epoch(data, device) -> float:
    model = _seeded_init(bundled_model("digits-cnn"), 0).to(device)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    start = time.perf_counter()
    for index in batch_order(len(data.train_y), 1, 32, 0)[0]:
        optimiser.zero_grad()
        F.cross_entropy(model(data.train_x[index].to(device)), data.train_y[index].to(device)).backward()
        optimiser.step()
    with torch.no_grad():
        model(data.test_x.to(device)).argmax(-1)
    return time.perf_counter() - start


def chip_epoch(data, device, adc: str, bits: int | None) -> float:
    start = time.perf_counter()
    train_on_chip("digits-cnn", data, netlist=NETLIST, epochs=1, lr=0.05, wl_weight=5, wl_activate=8, wl_error=8,
                  wl_grad=8, adc=adc, adc_bits=bits, device=str(device), progress=False)
    return time.perf_counter() - start


def best(function, repeat: int) -> float:
    function()
    return min(function() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--adc-bits", type=int, default=None)
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    data = digits(0)
    plain = best(lambda: plain_epoch(data, device), args.repeat)
    approx = best(lambda: chip_epoch(data, device, "approx", args.adc_bits), args.repeat)
    exact = best(lambda: chip_epoch(data, device, "exact", args.adc_bits), args.repeat)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"plain torch epoch          {plain * 1e3:8.1f} ms   1.0x")
    print(f"approximated ADC epoch     {approx * 1e3:8.1f} ms   {approx / plain:.1f}x")
    print(f"exact bit-serial ADC epoch {exact * 1e3:8.1f} ms   {exact / plain:.1f}x")


if __name__ == "__main__":
    main()
