"""Noise-free read-outs of a programmed array: blocked bit-serial and folded.

Exact, faster evaluations of the read-out model of :mod:`cimgraph.accuracy.cim_layer` (seed 001
sec. 7), as a mixin of its ``CimArray`` (they read the programmed ``conductance``, ``slices``,
``columns``, ``slice_weights``, the cycle bounds and the ADC conversion of
:mod:`cimgraph.accuracy.conversion`). The blocked read-out runs in blocks of output positions sized
to stay in cache: one GEMM per block and row group stacks every input cycle's digits (rows) against
every slice's columns, in the fastest exact operand, timed once per shape class (``kernels``: int8
with int32 sums on CPU, bfloat16 for sums <= 256, float32, or several input cycles packed into one
int8 or float32 operand, ``packing``, decoded exactly or read out through a table of both planes'
ADC codes), on data-parallel workers that take whole blocks where that is timed faster; the ADC
converts the block in place and the shift-and-add is one reduction over row groups, cycles and
slices. The folded read-out sums input cycles and cell slices into one product per subarray, valid
where the ADC provably passes every cycle's sum unchanged (``CimArray.can_fold``).
"""
from __future__ import annotations

import torch

from . import kernels, packing
from .adc import NonlinearAdc

BFLOAT16_MATMUL = True  # exact-integer bfloat16 matmuls where they are provably exact
INT8_MATMUL = True  # exact int8 x int8 -> int32 matmuls (CPU torch._int_mm) where the operands fit
PACKED_MATMUL = True  # offer input cycles packed into one operand (``packing``) to the timed operand choice
BLOCK_PSUMS = 1 << 22  # partial sums per block of output positions (16 MiB in float32, within a CPU's L3)


class NoiseFreeReadout:
    """Exact operand choice, packings, the blocked bit-serial read-out and the folded product."""

    def _operand_candidates(self, dac: int) -> list[torch.dtype]:
        """Matmul operands that keep every column sum exact, narrowest first.

        int8 (int32 sums, CPU ``torch._int_mm``) when states are whole levels in -128..127 and digits
        fit; bfloat16 (8 significant bits) when every |column sum| is a whole number <= 256; float32.
        """
        digit_top = 2**dac - 1
        if not self.whole_levels:
            return [torch.float32]
        found = []
        if (INT8_MATMUL and self.device.type == "cpu" and hasattr(torch, "_int_mm") and digit_top <= 127
                and float(self.conductance.min()) >= -128 and float(self.conductance.max()) <= 127):
            found.append(torch.int8)
        if BFLOAT16_MATMUL and digit_top * self.column_peak <= 256:
            found.append(torch.bfloat16)
        return found + [torch.float32]

    def _packings(self, dac: int, adc=None) -> list[packing.Packing]:
        """Packed operands (several input cycles per product, ``packing``) exact for this array and ``adc``.

        A lookup packing needs codes that depend on the slice alone (no dither) and are whole numbers."""
        cycles = -(-self.config.input_bits // dac)
        if not (PACKED_MATMUL and self.whole_levels):
            return []
        dtypes = [torch.int8] if torch.int8 in self._operand_candidates(dac) else []
        if self.device.type != "cuda" or not torch.backends.cuda.matmul.allow_tf32:  # TF32 keeps 10 bits
            dtypes.append(torch.float32)
        found = [packing.plan(dtype, cycles, self._digit_top(), self.cycle_peak()) for dtype in dtypes]
        whole = not isinstance(adc, NonlinearAdc) or all(float(v).is_integer() for v in adc.levels)
        if torch.int8 in dtypes and whole and not self.config.dither:
            found.append(packing.plan_lookup(cycles, self._digit_top(), *self.cycle_bounds()))
        return [p for p in found if p is not None]

    def _lookup(self, packed: packing.Packing, adc, dac: int, operand: torch.Tensor):
        """A lookup packing's table (both planes' codes as this ADC converts them) and index offsets."""
        low, _ = self.cycle_bounds()
        fields = torch.arange(packed.radix, dtype=torch.float32).view(-1, 1, 1) + torch.tensor(
            low, dtype=torch.float32).view(1, -1, 1)
        codes = fields.expand(-1, self.slices, self.columns).contiguous().to(self.device)
        if adc is not None:
            codes = self._convert_(codes, adc, whole=True)
        return packing.lookup_table(codes[:, :, 0], dac), packing.lookup_offsets(operand, packed, low)

    def _serial_blocked(self, codes: torch.Tensor, cycles: int, dac: int, adc) -> torch.Tensor:
        """Noise-free bit-serial read-out, blocked over output positions so partial sums stay in cache.

        ``codes`` (positions, groups, rows) input integers. Each block stacks every input cycle
        along the matmul rows (one GEMM per block and subarray; packed operands hold several cycles
        per row), converts the partial sums in place, sums over subarrays and weights the cycles
        (float32 where that is exact), then weights the slices in float64. Returns (positions,
        slices' columns). The operand is the fastest exact one, measured once per shape class.
        """
        count, groups, rows = codes.shape
        width = self.slices * self.columns
        block = max(1, min(count, BLOCK_PSUMS // (groups * cycles * width)))
        options = self._operand_candidates(dac) + self._packings(dac, adc)
        converts = adc is not None and (isinstance(adc, NonlinearAdc) or not self.can_fold())
        shape = (groups, cycles * block, rows, width, self.device, converts)
        option = kernels.fastest(options, *shape)
        workers = min(kernels.workers_for(option, options, *shape), -(-count // block))
        if workers > 1:   # whole blocks per worker: the same blocks as one loop, so the same numbers
            per_worker = -(-count // block // workers) * block
            with kernels.threads(1):
                parts = kernels.pool(workers).map(lambda part: self._blocks(part, cycles, dac, adc, option, block),
                                                  codes.split(per_worker))
                return torch.cat(list(parts))
        with kernels.threads(kernels.threads_for(option, options, *shape)):
            return self._blocks(codes, cycles, dac, adc, option, block)

    def _blocks(self, codes: torch.Tensor, cycles: int, dac: int, adc, option: kernels.Option,
                block: int) -> torch.Tensor:
        """The block loop of ``_serial_blocked`` with the chosen operand (a type or a packing)."""
        count, groups, rows = codes.shape
        width = self.slices * self.columns
        packed = option if isinstance(option, packing.Packing) else None
        dtype = packed.dtype if packed else option
        operand = self.conductance.to(dtype)
        psum_dtype = kernels.sums_dtype(dtype)
        sum_rows = -(-cycles // packed.planes) if packed else cycles  # product rows per position
        lookup = packed is not None and packed.slices > 0
        store = torch.empty(groups * sum_rows * block * width, dtype=psum_dtype, device=self.device)
        if packed:  # decoded planes (or a lookup's codes per pack) in float32
            real = torch.empty(groups * (sum_rows if lookup else cycles) * block * width, device=self.device)
        else:
            real = store.view(torch.float32) if psum_dtype == torch.int32 else (
                store if dtype == torch.float32 else torch.empty(store.shape, device=self.device))
        shift = packing.column_shift(operand, packed) if packed and not lookup else None
        shifts = torch.arange(0, cycles * dac, dac, dtype=codes.dtype, device=self.device).view(1, cycles, 1, 1)
        cycle_weights = 2.0 ** shifts.flatten().double()
        integral = dtype != torch.float32 or packed is not None
        if isinstance(adc, NonlinearAdc):
            integral = integral and all(float(v).is_integer() for v in adc.levels)
        steps, top = self._code_values(adc)
        # float32 sums are exact for whole numbers below 2^24; fractional values get float64 cycle sums
        group_dtype = torch.float32 if groups * top * (1 + 2**dac if lookup else 1) < 2.0**24 else torch.float64
        cycle_dtype = torch.float32 if integral and groups * top * float(cycle_weights.sum()) < 2.0**24 \
            else torch.float64
        cycle_weights = cycle_weights.to(cycle_dtype)
        low, high = self.cycle_bounds()
        linear = adc is not None and not isinstance(adc, NonlinearAdc)
        clip = None  # whole-number sums lie within the cycle bounds: clip only the sides and slices that can pass
        if linear and integral:
            step, code_low, code_high = self._adc_grid(adc)
            bounded = bool((torch.tensor(low) / step).round().ge(code_low).all()
                           and (torch.tensor(high) / step).round().le(code_high).all())
            clip = (None, None) if bounded else self._clip_plan(adc)
        convert = not (integral and (psum_dtype == torch.int32 or packed) and groups * top < 2.0**31 and (
            adc is None or (linear and self.can_fold())))
        table, index = self._lookup(packed, adc if convert else None, dac, operand) if lookup else (None, None)
        row_weights = cycle_weights[::packed.planes] if lookup else cycle_weights  # a table row holds a pack
        slice_weights = (self.slice_weights.cpu() * steps).to(self.device)
        # the codes' offsets (low x step per conversion) over subarrays, cycles and slices: one constant
        offset = torch.mv(self._code_offsets(adc, groups * float(cycle_weights.double().sum())).t(),
                          self.slice_weights.cpu()).to(self.device) if convert and adc is not None else None
        acc = torch.empty(count, self.columns, dtype=torch.float64, device=self.device)
        for start in range(0, count, block):
            k = min(block, count - start)
            size = groups * cycles * k * width
            digits = (codes[start:start + k].transpose(0, 1).unsqueeze(1) >> shifts) & (2**dac - 1)
            digits = packing.pack(digits, packed) if packed else digits.to(dtype).reshape(groups, cycles * k, rows)
            psum = kernels.batched_product(digits.contiguous(), operand, store[:groups * sum_rows * k * width].view(
                groups, sum_rows * k, width))
            if lookup:  # both planes' codes, weighted, in one gather
                values = torch.index_select(table, 0, psum.add_(index).view(-1), out=real[:psum.numel()])
                total = values.view(groups, -1).sum(0, dtype=group_dtype).view(sum_rows, k * width).to(cycle_dtype)
            elif not (convert or packed):  # exact integer sums that the ADC passes unchanged
                total = psum.sum(0, dtype=torch.int32).view(cycles, k * width).to(cycle_dtype)
            else:
                values = real[:size].view(groups, cycles * k, width)
                if packed:
                    packing.decode(psum, shift, values, packed, cycles, k)
                elif values.data_ptr() != psum.data_ptr() or values.dtype != psum.dtype:
                    values.copy_(psum)  # int32 -> float32 in place (same memory), bfloat16 -> float32
                if adc is not None and convert:
                    values = self._convert_(values, adc, whole=integral, clip=clip)
                total = values.sum(0, dtype=group_dtype).view(cycles, k * width).to(cycle_dtype)
            total = torch.mv(total.t(), row_weights).view(k, self.slices, self.columns)
            acc[start:start + k] = torch.matmul(slice_weights, total.double())
        if offset is not None:
            acc += offset - groups * float(torch.einsum("js,j,s->", self.mean_error, cycle_weights.double().cpu(),
                                                        self.slice_weights.cpu()))
        return acc

    def _folded_product(self, codes: torch.Tensor) -> torch.Tensor:
        """Noise-free fast mode: input cycles and cell slices folded, one product per subarray.

        Valid where ``can_fold`` holds (the ADC passes every cycle's sum unchanged), so the read-out
        equals sum over subarrays of x @ (sum over slices of 2^(slice bits) x states). Whole-level
        8-bit operands run as one exact int8 GEMM on offset values (x - 128)(w - c), c = 128 for
        weights in 0..255 and 0 for signed ones in -128..127, with the offsets restored from row and
        column sums; otherwise per-subarray float32 products where exact, else (wider integers, analog
        states) float64. ``codes`` (positions, groups, rows) -> (positions, columns).
        """
        count, groups, rows = codes.shape
        per_slice = self.conductance.view(groups, rows, self.slices, self.columns).double()
        weights = torch.einsum("grsc,s->grc", per_slice, self.slice_weights)  # (groups, rows, columns)
        depth = groups * rows
        low, high = float(weights.min()), float(weights.max())
        shift = 128.0 if low >= 0 else 0.0
        if (INT8_MATMUL and self.device.type == "cpu" and hasattr(torch, "_int_mm") and self.whole_levels
                and codes.dtype == torch.uint8 and low >= -128 + shift and high <= 127 + shift
                and depth * 128 * 256 < 2**31):
            inputs = (codes.reshape(count, depth) ^ 128).view(torch.int8)  # x - 128
            cells = (weights.reshape(depth, self.columns) - shift).to(torch.int8)
            acc = torch._int_mm(inputs, cells).double()
            acc += 128.0 * cells.sum(0, dtype=torch.int32).double().view(1, -1)
            if shift:
                acc += shift * inputs.sum(1, dtype=torch.int32).double().view(-1, 1) + 128.0 * shift * depth
            return acc
        top = 2.0**self.config.input_bits - 1
        exact32 = self.whole_levels and rows * top * float(weights.abs().max()) < 2.0**24
        dtype = torch.float32 if exact32 else torch.float64
        psum = torch.bmm(codes.transpose(0, 1).to(dtype), weights.to(dtype))
        return psum.sum(0, dtype=torch.float64)
