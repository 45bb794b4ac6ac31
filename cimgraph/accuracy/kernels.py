"""Pick the fastest exact matmul operand type by measuring it once per process and shape class.

Every candidate passed in is exact for the product at hand (the caller proves it: int8 x int8 with
int32 sums, bfloat16 for whole-number sums <= 256, float32 below 2^24), so the choice changes speed
only, never a result. Which one is fastest depends on the CPU: ``torch._int_mm`` runs 4x faster than
bfloat16 on one AMD EPYC and 4x slower on one Xeon (issue 15), so a fixed order cannot hold on any
CPU. The first product of a shape class (sizes rounded up to powers of two, device, thread count)
times each candidate on operands of that shape and caches the winner for the process.
"""
from __future__ import annotations

import time

import torch

TRIALS = 3  # timed runs per candidate after one warm-up; the minimum counts
SAMPLE_ROWS = 4096  # matmul rows timed at most (the blocked read-out's rows are positions x cycles)

_CHOICES: dict[tuple, torch.dtype] = {}


def _class(*sizes: int) -> tuple[int, ...]:
    return tuple(1 << max(0, int(s) - 1).bit_length() for s in sizes)


def batched_product(left: torch.Tensor, right: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out[g] = left[g] @ right[g] for (groups, m, k) x (groups, k, n); int8 operands give int32 sums."""
    if left.dtype == torch.int8:
        for g in range(left.shape[0]):
            torch._int_mm(left[g], right[g], out=out[g])
        return out
    return torch.bmm(left, right, out=out)


def sums_dtype(operand: torch.dtype) -> torch.dtype:
    return torch.int32 if operand == torch.int8 else operand


def _time(dtype: torch.dtype, groups: int, m: int, k: int, n: int, device: torch.device) -> float:
    left = torch.randint(0, 2, (groups, m, k), device=device).to(dtype)
    right = torch.randint(0, 2, (groups, k, n), device=device).to(dtype)
    out = torch.empty(groups, m, n, dtype=sums_dtype(dtype), device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    batched_product(left, right, out)
    sync()
    best = float("inf")
    for _ in range(TRIALS):
        start = time.perf_counter()
        batched_product(left, right, out)
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def fastest(candidates: list[torch.dtype], groups: int, m: int, k: int, n: int,
            device: torch.device) -> torch.dtype:
    """The fastest of ``candidates`` (all exact) for a (groups, m, k) x (groups, k, n) product."""
    if len(candidates) == 1:
        return candidates[0]
    m = min(m, SAMPLE_ROWS)
    key = (device.type, tuple(candidates), _class(groups, m, k, n), torch.get_num_threads())
    if key not in _CHOICES:
        _CHOICES[key] = min(candidates, key=lambda d: _time(d, groups, m, k, n, device))
    return _CHOICES[key]


def choices() -> dict[tuple, torch.dtype]:
    """The choices made so far in this process: (device, candidates, shape class, threads) -> operand."""
    return dict(_CHOICES)
