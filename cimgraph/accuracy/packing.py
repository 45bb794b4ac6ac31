"""Several input bit planes in one exact matmul operand, and their exact decode.

Kronecker substitution (evaluate at a power of a radix B, as in multiplying integer polynomials
through one big-integer product): plane i of a pack of input cycles is scaled by B^i, so one product
gives R = sum_i B^i S_i per column, S_i the column sum of plane i. With |S_i| <= peak (the
programmed array's proven bound on one cycle's column sum) and B >= 2 peak + 1, the S_i are the
digits of R in balanced radix B: S_top = round(R / B^top), since the lower digits add less than half
of B^top, then R -= B^top S_top, and so on down. Every step is exact where each product, partial sum
and decode value is an exactly represented integer:

- int8 operands with int32 sums: two planes, inputs d0 + B d1 - z in -128..127 (z = 128 where the
  packed value passes 127; the shift is undone from the known column cell sums, z x sum of cells);
  R / B is within 2^-16 of a value at least 1/(2B) >= 2^-9 from a rounding boundary, so round(R x
  fl(1/B)) is exact;
- float32: B a power of two (scaling exact) and peak x sum_i B^i < 2^24, which bounds every partial
  sum of the product in any summation order.

A lookup packing (int8, two planes) skips the decode and the ADC's passes: with unsigned fields
u_i = S_i - low_s (low_s, high_s the slice's cycle bounds, B = max span + 1) the index
R + z x cells - low_s (1 + B) + s B^2 of a table holding code(u0 + low_s) + 2^dac code(u1 + low_s),
built by the ADC's own conversion, gives both planes' codes weighted in one gather.

Two planes per int8 operand halve the product's work, two or three per float32 operand halve or
third it, at the cost of the decode passes (or a gather); which is fastest depends on the CPU, so
``kernels`` times the packings like any other operand.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

FLOAT32_INTEGERS = 2**24  # float32 represents every integer of magnitude up to 2^24


@dataclass(frozen=True)
class Packing:
    """``planes`` input cycles per ``dtype`` operand, plane i scaled by ``radix``^i, inputs shifted by -``shift``."""

    dtype: torch.dtype
    planes: int
    radix: int
    shift: int = 0  # 0 or 128
    slices: int = 0  # a lookup packing's table has slices x radix^2 entries; 0: decoded arithmetically

    def __str__(self) -> str:
        kind = "lookup" if self.slices else "decoded"
        return f"{str(self.dtype).replace('torch.', '')} {kind} x{self.planes} (radix {self.radix})"


def _int8_shift(digit_top: int, radix: int) -> int | None:
    """-z that brings packed inputs d0 + B d1 into int8, or None where they span more than 256 values."""
    span = digit_top * (1 + radix)
    return None if span > 255 else (0 if span <= 127 else 128)


def plan(dtype: torch.dtype, cycles: int, digit_top: int, peak: float) -> Packing | None:
    """The packing of the most input cycles per ``dtype`` operand that is exact, or None below two.

    ``digit_top``: the largest input digit of one cycle; ``peak``: the largest |column sum| one cycle
    can produce (whole levels). Fields never overflow: the radix is derived from ``peak`` and every
    bound of the module docstring is checked here.
    """
    if cycles < 2 or peak != int(peak):
        return None
    peak = int(peak)
    if dtype == torch.int8:
        shift = _int8_shift(digit_top, 2 * peak + 1)
        return None if shift is None else Packing(dtype, 2, 2 * peak + 1, shift)
    if dtype != torch.float32:
        raise ValueError(f"packing: expected an int8 or float32 operand, got {dtype}")
    radix = 1 << (2 * peak).bit_length()  # the smallest power of two >= 2 peak + 1
    planes = 1
    while planes < cycles and max(peak, 1) * sum(radix**i for i in range(planes + 1)) < FLOAT32_INTEGERS:
        planes += 1
    return Packing(dtype, planes, radix) if planes >= 2 else None


def plan_lookup(cycles: int, digit_top: int, low: list[float], high: list[float]) -> Packing | None:
    """A lookup packing (int8, two planes per operand) for per-slice cycle bounds ``low``..``high``, or None.

    Needs an even number of cycles (every pack full) and whole-number bounds."""
    if cycles < 2 or cycles % 2 or any(v != int(v) for v in (*low, *high)):
        return None
    radix = int(max(h - lo for lo, h in zip(low, high))) + 1
    shift = _int8_shift(digit_top, radix)
    return None if shift is None else Packing(torch.int8, 2, radix, shift, len(low))


def lookup_table(codes: torch.Tensor, dac: int) -> torch.Tensor:
    """Flat table, index s B^2 + B u1 + u0 -> codes[u0, s] + 2^dac codes[u1, s], from (radix, slices) codes."""
    per_slice = codes.t()  # (slices, B): code of field u
    return (per_slice.unsqueeze(2) * 2.0**dac + per_slice.unsqueeze(1)).reshape(-1).contiguous()


def lookup_offsets(operand: torch.Tensor, packing: Packing, low: list[float]) -> torch.Tensor:
    """(groups, 1, columns) int32 added to the sums to make table indices (``operand``: (groups, rows, columns))."""
    groups, _, width = operand.shape
    radix, columns = packing.radix, width // packing.slices
    per_slice = torch.tensor([s * radix**2 - int(lo) * (1 + radix) for s, lo in enumerate(low)], dtype=torch.int32)
    offsets = per_slice.to(operand.device).repeat_interleave(columns).view(1, 1, width)
    shift = column_shift(operand, packing)
    return offsets.expand(groups, 1, width).contiguous() if shift is None else shift + offsets


def pack(digits: torch.Tensor, packing: Packing) -> torch.Tensor:
    """(groups, cycles, positions, rows) input digits -> (groups, packs x positions, rows) packed operand.

    The last pack's missing planes are zero digits (zero sums, decoded and dropped). int8 packs are
    built in uint8 (the plan bounds them by 255) and shifted by flipping the top bit."""
    groups, cycles, count, rows = digits.shape
    step = packing.planes
    wide = torch.uint8 if packing.dtype == torch.int8 else packing.dtype
    packed = digits[:, 0::step].to(wide)
    for i in range(1, step):
        plane = digits[:, i::step].to(wide)
        packed[:, : plane.shape[1]].add_(plane, alpha=packing.radix**i)
    if packing.shift:  # shift 128: u - 128 in int8 is u with its top bit flipped
        packed = (packed ^ 128).view(torch.int8)
    return packed.to(packing.dtype).reshape(groups, -1, rows)


def column_shift(operand: torch.Tensor, packing: Packing) -> torch.Tensor | None:
    """(groups, 1, columns) int32 z x column cell sums, added back to int32 sums; None when z = 0."""
    if not packing.shift:
        return None
    return (packing.shift * operand.to(torch.int32).sum(1, keepdim=True)).to(torch.int32)


def decode(sums: torch.Tensor, shift: torch.Tensor | None, values: torch.Tensor, packing: Packing,
           cycles: int, count: int) -> torch.Tensor:
    """(groups, packs x count, columns) packed sums -> ``values`` (groups, cycles x count, columns) float32.

    Plane j's sums land in rows j x count .. (j + 1) x count, as an unpacked product lays them out."""
    radix, step = packing.radix, packing.planes
    for pack, start in enumerate(range(0, cycles, step)):
        part = sums[:, pack * count:(pack + 1) * count]
        rest = values[:, start * count:(start + 1) * count]
        if shift is not None:
            torch.add(part, shift, out=rest)  # int32 sums, cast to float32 as they are stored
        else:
            rest.copy_(part)
        for i in range(min(step, cycles - start) - 1, 0, -1):
            plane = values[:, (start + i) * count:(start + i + 1) * count]
            torch.mul(rest, 1.0 / radix**i, out=plane).round_()
            rest.add_(plane, alpha=-float(radix**i))
    return values
