"""Pick the fastest exact matmul operand type by measuring it once per process and shape class.

Every candidate passed in is exact for the product at hand (the caller proves it: int8 x int8 with
int32 sums, bfloat16 for whole-number sums <= 256, float32 below 2^24; a ``packing.Packing`` of
several input cycles per operand, whose decode or table gather is timed with it), so the choice
changes speed only, never a result. Which one is fastest depends on the CPU: ``torch._int_mm`` runs
4x faster than bfloat16 on one AMD EPYC and 4x slower on one Xeon (issue 15), so a fixed order
cannot hold on any CPU. The first product of a shape class (sizes rounded up to powers of two,
device, thread count, whether the ADC converts the sums) times each candidate on a block of that
shape (product, then the passes the read-out makes) and caches the winner for the process. The thread
count is part of the choice: on a CPU whose cores are busy with other work, OpenMP threads that wait
for each other made one bit-serial layer 10x slower with 2 threads than with 1 (26 s against 2.4 s on
the shared 2-core machine of issue 15), so 1 thread and the configured count are both timed. The read-out's conversion passes are memory-bound
element-wise work that intra-op threads barely speed up, so on a CPU with more than one thread the
winner is also timed as that many independent blocks at once, one intra-op thread each (data-parallel
workers over the blocks, which share nothing); the faster of the two plans is kept (``workers_for``).
"""
from __future__ import annotations

import contextlib
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import torch

from .packing import Packing, column_shift, decode

TRIALS = 2  # timed runs per candidate and round after one warm-up; the round's time is their minimum
# Rounds over all candidates; a candidate's time is the median of its rounds, not their minimum: a transient
# (another process, OpenMP threads still spinning) hits one round, and a plan whose speed swings (2 OpenMP threads
# on a shared 2-core CPU) must not win on its luckiest round (3 of 9 processes did, running 77-168x, issue 15)
ROUNDS = 3
SAMPLE_ROWS = 4096  # matmul rows timed at most (the blocked read-out's rows are positions x cycles)

Option = torch.dtype | Packing  # an unpacked operand type, or input cycles packed into one (``packing``)

# key -> (operand, intra-op threads, workers: blocks run at once on one intra-op thread each; 1: none)
_CHOICES: dict[tuple, tuple[Option, int, int]] = {}
_POOLS: dict[int, ThreadPoolExecutor] = {}


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


def _block(option: Option, groups: int, m: int, k: int, n: int, device: torch.device, converts: bool = True):
    """A read-out block of this shape: the product (and a packing's decode), a conversion's passes
    where ``converts`` (an ADC that can round or clip), and the sum over groups."""
    packing = option if isinstance(option, Packing) else None
    dtype = packing.dtype if packing else option
    rows = -(-m // packing.planes) if packing else m
    left = torch.randint(0, 2, (groups, rows, k), device=device).to(dtype)
    right = torch.randint(0, 2, (groups, k, n), device=device).to(dtype)
    out = torch.empty(groups, rows, n, dtype=sums_dtype(dtype), device=device)
    if packing and packing.slices:  # a lookup: indices spread over a table of the real size
        table = torch.rand(packing.slices * packing.radix**2, device=device)
        index = torch.randint(0, table.numel() - k, (groups, 1, n), dtype=torch.int32, device=device)
        real = torch.empty(groups * rows * n, device=device)
    elif packing:
        real = torch.empty(groups, rows * packing.planes, n, device=device)
        shift = column_shift(right, packing)
    else:
        real = out.view(torch.float32) if dtype == torch.int8 else (
            out if dtype == torch.float32 else torch.empty(out.shape, device=device))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def run() -> None:
        batched_product(left, right, out)
        if packing and packing.slices:
            torch.index_select(table, 0, out.add_(index).view(-1), out=real).view(groups, -1).sum(0)
            return sync()
        if packing:
            decode(out, shift, real, packing, packing.planes, rows)
        elif dtype == torch.int8 and not converts:  # exact int32 sums the ADC passes unchanged
            out.sum(0, dtype=torch.int32)
            return sync()
        elif real.data_ptr() != out.data_ptr() or real.dtype != out.dtype:
            real.copy_(out)
        if converts:
            real.mul_(0.5).round_().clamp_(0, 31)
        real.sum(0)
        sync()

    return run


def _time(option: Option, groups: int, m: int, k: int, n: int, device: torch.device,
          converts: bool = True, workers: int = 1) -> float:
    """Seconds per read-out block of this shape (best of ``TRIALS`` after a warm-up); with ``workers`` > 1,
    that many blocks run at once on the worker pool (call under ``threads(1)``) and the time is per block."""
    runs = [_block(option, groups, m, k, n, device, converts) for _ in range(workers)]
    step = runs[0] if workers == 1 else (lambda: list(pool(workers).map(lambda run: run(), runs)))
    step()
    best = float("inf")
    for _ in range(TRIALS):
        start = time.perf_counter()
        step()
        best = min(best, (time.perf_counter() - start) / workers)
    return best


def pool(workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads for data-parallel read-out blocks (torch releases the GIL)."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="cimgraph-readout")
    return _POOLS[workers]


@contextlib.contextmanager
def threads(count: int):
    """Run the block with ``count`` intra-op threads, restoring the caller's setting after."""
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count != before:
            torch.set_num_threads(before)


def _key(candidates: list[Option], groups: int, m: int, k: int, n: int, device: torch.device,
         converts: bool) -> tuple:
    """The cache key of a choice: device, candidates, shape class, configured threads, converts."""
    return (device.type, tuple(candidates), _class(groups, m, k, n), torch.get_num_threads(), converts)


def _plan(candidates: list[Option], groups: int, m: int, k: int, n: int, device: torch.device,
          converts: bool = True) -> tuple[Option, int, int]:
    """The measured (operand, intra-op threads, workers) for this product, cached per shape class."""
    configured = torch.get_num_threads()
    # (operand, intra-op threads, workers): 1 thread, all threads, or one block per thread at once
    plans = [(1, 1), (configured, 1), (1, configured)] if device.type == "cpu" and configured > 1 else \
        [(configured, 1)]
    options = [(option, count, workers) for option in candidates for count, workers in plans]
    if len(options) == 1:
        return options[0]
    m = min(m, SAMPLE_ROWS)
    key = _key(candidates, groups, m, k, n, device, converts)
    if key not in _CHOICES:
        def timed(option: tuple[Option, int, int]) -> float:
            with threads(option[1]):
                return _time(option[0], groups, m, k, n, device, converts, option[2])

        rounds: dict[tuple[Option, int, int], list[float]] = {option: [] for option in options}
        for _ in range(ROUNDS):   # interleaved, so no candidate is timed only in a slow moment
            for option in options:
                rounds[option].append(timed(option))
        _CHOICES[key] = min(options, key=lambda option: statistics.median(rounds[option]))
    return _CHOICES[key]


def fastest(candidates: list[Option], groups: int, m: int, k: int, n: int, device: torch.device,
            converts: bool = True) -> Option:
    """The fastest of ``candidates`` (all exact) for a (groups, m, k) x (groups, k, n) product whose sums
    an ADC then converts (``converts``) or passes unchanged."""
    return _plan(candidates, groups, m, k, n, device, converts)[0]


def threads_for(option: Option, candidates: list[Option], groups: int, m: int, k: int, n: int,
                device: torch.device, converts: bool = True) -> int:
    """Threads to run ``option``'s products with: the measured choice, else the configured count."""
    chosen, count, _ = _plan(candidates, groups, m, k, n, device, converts)
    return count if chosen == option else torch.get_num_threads()


def workers_for(option: Option, candidates: list[Option], groups: int, m: int, k: int, n: int,
                device: torch.device, converts: bool = True) -> int:
    """Blocks to run at once (one intra-op thread each) for ``option``: the measured plan, else 1."""
    chosen, _, workers = _plan(candidates, groups, m, k, n, device, converts)
    return workers if chosen == option else 1


def choices() -> dict[tuple, tuple[Option, int, int]]:
    """Choices so far: (device, candidates, shape class, threads, converts) -> (operand, intra-op threads,
    workers: blocks run at once, one thread each)."""
    return dict(_CHOICES)