"""Input bit planes packed into one matmul operand: the packing's bounds, its decode, and equality with the
unpacked read-out on random arrays, including the largest fields (every cell and every digit at its top)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cimgraph.accuracy.kernels as kernels
import cimgraph.accuracy.readout as readout
from cimgraph.accuracy import packing
from cimgraph.accuracy.cim_layer import CimArray
from cimgraph.accuracy.config import CimConfig


@pytest.mark.parametrize("dtype, cycles, top, peak, expected", [
    (torch.int8, 8, 1, 128, None),  # radix 257: d0 + 257 d1 takes 259 values, int8 holds 256
    (torch.int8, 8, 1, 127, None),  # radix 255: 0..256
    (torch.int8, 8, 1, 126, packing.Packing(torch.int8, 2, 253, 128)),  # 0..254, shifted by -128
    (torch.int8, 8, 1, 62, packing.Packing(torch.int8, 2, 125, 0)),  # 0..126 fits int8 unshifted
    (torch.int8, 8, 3, 42, None),  # 2-bit digits: 3 (1 + 85) = 258
    (torch.int8, 8, 3, 40, packing.Packing(torch.int8, 2, 81, 128)),  # 3 (1 + 81) = 246
    (torch.int8, 1, 1, 10, None),  # one cycle: nothing to pack
    (torch.float32, 8, 1, 128, packing.Packing(torch.float32, 2, 512, 0)),  # 128 (1 + 512 + 512^2) > 2^24
    (torch.float32, 8, 1, 84, packing.Packing(torch.float32, 3, 256, 0)),  # 84 x 65793 < 2^24
    (torch.float32, 2, 1, 84, packing.Packing(torch.float32, 2, 256, 0)),  # no more planes than cycles
    (torch.float32, 8, 1, 2**22, None),  # 2^22 (1 + 2^23) > 2^24
    (torch.float32, 8, 1, 1.5, None),  # fractional sums: no exact fields
])
def test_plan_derives_the_packing_from_the_bound(dtype, cycles, top, peak, expected):
    assert packing.plan(dtype, cycles, top, peak) == expected


@pytest.mark.parametrize("cycles, top, low, high, expected", [
    (8, 1, [0, 0, -128], [128, 84, 0], packing.Packing(torch.int8, 2, 129, 128, 3)),  # full 128-row column
    (8, 1, [0, -62], [62, 0], packing.Packing(torch.int8, 2, 63, 0, 2)),  # 0..64 fits int8 unshifted
    (8, 3, [-300], [0], None),  # 3 (1 + 301) passes 255
    (7, 1, [0], [10], None),  # an odd cycle count leaves a pack half full
    (8, 1, [0], [10.5], None),  # fractional bounds
])
def test_lookup_plan_derives_the_radix_from_each_slice_span(cycles, top, low, high, expected):
    assert packing.plan_lookup(cycles, top, low, high) == expected


def test_lookup_table_and_offsets_index_both_planes_codes():
    plan = packing.plan_lookup(2, 1, [0, -3], [2, 0])  # radix 4: slice 0 fields 0..2, slice 1 fields -3..0
    codes = torch.tensor([[10.0, 20.0], [11.0, 21.0], [12.0, 22.0], [13.0, 23.0]])  # (field u, slice)
    table = packing.lookup_table(codes, dac=1)
    cells = torch.tensor([[[1, 0], [1, -1], [0, -1]]], dtype=torch.int8)  # (groups, rows, columns): one per slice
    offsets = packing.lookup_offsets(cells, plan, [0, -3])
    for s0, s1, column, low in [(2, 1, 0, 0), (-3, 0, 1, -3), (-1, -2, 1, -3)]:
        sums = s0 + plan.radix * s1 - plan.shift * int(cells[0, :, column].sum())
        index = sums + int(offsets[0, 0, column])
        assert float(table[index]) == codes[s0 - low, column] + 2 * codes[s1 - low, column]


def test_plan_refuses_other_operand_types():
    with pytest.raises(ValueError, match="int8 or float32"):
        packing.plan(torch.bfloat16, 8, 1, 10)


@pytest.mark.parametrize("dtype, peak", [(torch.int8, 126), (torch.int8, 1), (torch.float32, 84), (torch.float32, 128)])
def test_decode_recovers_every_field_at_the_extremes(dtype, peak):
    plan = packing.plan(dtype, 8, 1, peak)
    fields = torch.tensor([-peak, peak, 0, -peak + 1, peak - 1, peak, -peak, 1], dtype=torch.float64)
    planes = torch.stack([fields.roll(i) for i in range(8)]).view(1, 8, 1, 8)  # (groups, cycles, count, columns)
    packs = -(-8 // plan.planes)
    padded = torch.cat([planes, planes.new_zeros(1, packs * plan.planes - 8, 1, 8)], dim=1)
    radix = torch.tensor([float(plan.radix) ** i for i in range(plan.planes)], dtype=torch.float64)
    sums = torch.einsum("gpick,i->gpck", padded.view(1, packs, plan.planes, 1, 8), radix)
    sums = (sums.to(torch.int32) - plan.shift * 3 if dtype == torch.int8 else sums.float()).view(1, packs, 8)
    shift = torch.full((1, 1, 8), plan.shift * 3, dtype=torch.int32) if plan.shift else None
    values = packing.decode(sums, shift, torch.empty(1, 8, 8), plan, 8, 1)
    assert torch.equal(values.double(), planes.view(1, 8, 8))


def _weights(draw_weights: str, in_rows: int, out: int, seed: int) -> torch.Tensor:
    """Random 8-bit weights, all +127 or all -127 (every cell slice at its top), or random +-127."""
    g = torch.Generator().manual_seed(seed)
    if draw_weights == "random":
        return torch.randint(-127, 128, (out, in_rows), generator=g).double()
    if draw_weights == "max":
        return torch.full((out, in_rows), 127.0, dtype=torch.float64)
    if draw_weights == "min":
        return torch.full((out, in_rows), -127.0, dtype=torch.float64)
    return 127.0 * (2 * torch.randint(0, 2, (out, in_rows), generator=g).double() - 1)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(weights=st.sampled_from(["random", "max", "min", "signs"]), rows=st.integers(1, 128),
       in_rows=st.integers(1, 300), out=st.integers(1, 9), bits_per_cell=st.integers(1, 2),
       dac_bits=st.integers(1, 2), input_bits=st.integers(2, 8), inputs=st.sampled_from(["random", "ones"]),
       adc=st.sampled_from([None, 5, 8]), reference=st.sampled_from(["dummy", "differential"]),
       seed=st.integers(0, 2**16))
def test_packed_read_out_equals_the_unpacked_read_out(weights, rows, in_rows, out, bits_per_cell,
                                                      dac_bits, input_bits, inputs, adc, reference, seed):
    q = _weights(weights, in_rows, out, seed)
    g = torch.Generator().manual_seed(seed + 1)
    top = 2**input_bits - 1
    x = torch.full((2, in_rows, 5), float(top), dtype=torch.float64) if inputs == "ones" else \
        torch.randint(0, top + 1, (2, in_rows, 5), generator=g).double()
    array = CimArray(q, CimConfig(rows=rows, bits_per_cell=bits_per_cell, dac_bits=dac_bits, input_bits=input_bits,
                                  adc_bits=adc, adc_range="slice", reference=reference))
    if adc is not None:
        array.matmul(x[:1] * (torch.arange(in_rows) % 2 == 0).view(1, -1, 1), observe=True)  # ranges that clip
        array.calibrate_adc()
    cycles = -(-input_bits // dac_bits)
    options = array._packings(dac_bits, array.adc)
    assert (torch.float32 in {p.dtype for p in options}) == (cycles >= 2)  # float32 always fits 128 rows here
    assert any(p.slices for p in options) == (  # a lookup wherever int8 holds a pair of any column's sums
        cycles % 2 == 0 and packing.plan_lookup(cycles, 2**dac_bits - 1, *array.cycle_bounds()) is not None)
    results = {}
    with pytest.MonkeyPatch.context() as patch:  # several blocks of 3 positions and a short last one
        patch.setattr(readout, "BLOCK_PSUMS", 3 * array.group_count * cycles * array.slices * array.columns)
        for forced in [torch.float32] + options:
            patch.setattr(kernels, "fastest", lambda candidates, *shape, pick=forced: pick)
            results[forced] = array.matmul(x)
    for option in options:
        assert torch.equal(results[option], results[torch.float32]), option
    if adc is None:
        assert torch.equal(results[torch.float32], torch.einsum("or,nrp->npo", q, x))


def test_packed_operands_are_timed_as_candidates(monkeypatch):
    monkeypatch.setattr(kernels, "_CHOICES", {})
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    plan = packing.plan(torch.int8, 8, 1, 84)
    lookup = packing.plan_lookup(8, 1, [0] * 7 + [-84], [84] * 7 + [0])
    for option in (plan, lookup, torch.int8):  # the block: product, decode or gather, the ADC's passes or not
        for converts in (True, False):
            # the timed block must run for every plan (a shape or dtype slip raises here); what it computes is
            # checked bit for bit by test_packed_read_out_equals_the_unpacked_read_out
            kernels._block(option, 9, 64, 128, 256, torch.device("cpu"), converts)()
    monkeypatch.setattr(kernels, "_time", lambda option, *shape: 1.0 if option == plan else 2.0)
    assert kernels.fastest([torch.int8, plan], 9, 64, 128, 256, torch.device("cpu")) == plan
