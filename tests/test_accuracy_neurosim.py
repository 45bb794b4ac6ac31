"""The ``neurosim`` semantics profile against NeuroSim V1.4's wrapper semantics, computed by hand."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from cimgraph.accuracy import CimConfig, Drift, Variation
from cimgraph.accuracy.cim_layer import build_array
from cimgraph.accuracy.neurosim import NeuroSimArray, linear_quantize_out, retention, tf32
from cimgraph.errors import AccuracyError

# Tiny layer: 4-bit weights q on 2-bit cells (2 slices, L = 4), on/off ratio 5, 2-bit inputs, 3 rows, 2 outputs,
# 2 output positions, 2-bit ADC. Codes X = round(7.5 (q/8 + 1)) = [[10, 3, 8], [14, 8, 6]] (7.5 -> 8, half to even).
Q = torch.tensor([[3.0, -5, 0], [7, 1, -2]])
X_IN = torch.tensor([[[3.0, 0], [1, 2], [2, 1]]])  # (batch 1, rows 3, positions 2): p0 = (3, 1, 2), p1 = (0, 2, 1)


def _tiny(adc_bits, effects=(), **kw):
    config = CimConfig(rows=3, weight_bits=4, input_bits=2, bits_per_cell=2, adc_bits=adc_bits, state_off=1.0,
                       state_on=5.0, profile="neurosim", **kw)
    return build_array(Q, config, effects)


def test_encoding_and_mid_range_dummy_by_hand():
    # ideal ADC: sum x (X - 7.5): p0 out0 = 3*2.5 + 1*(-4.5) + 2*0.5 = 4, out1 = 3*6.5 + 0.5 - 2*1.5 = 17;
    # p1 out0 = 2*(-4.5) + 0.5 = -8.5, out1 = 2*0.5 - 1.5 = -0.5 (the integer product is 4, 18, -10, 0)
    array = _tiny(None)
    assert isinstance(array, NeuroSimArray)
    assert array.effective.tolist() == [[2.5, -4.5, 0.5], [6.5, 0.5, -1.5]]
    assert array.matmul(X_IN).tolist() == [[[4.0, 17.0], [-8.5, -0.5]]]
    assert array.off == pytest.approx(0.75) and array.dummy == pytest.approx(2.25)  # (L-1)/(R-1), + (L-1)/2


def test_per_conversion_floor_adc_by_hand():
    # Input bit 0, slice 0: bits p0 (1, 1, 0), p1 (0, 0, 1); cells digit + 0.75: out0 (2.75, 3.75, 0.75),
    # out1 (2.75, 0.75, 2.75). Data tensor {6.5, 3.5, 0.75, 2.75}: min 0.75, bin (6.5 - 0.75)/4 = 1.4375,
    # floored -> {5.0625 (top bin closed), 2.1875, 0.75, 2.1875}; dummy {4.5, 2.25} -> {3.9375, 2.25}.
    data = linear_quantize_out(torch.tensor([[6.5, 3.5, 0.75, 2.75]]), 2)
    assert data.tolist() == [[5.0625, 2.1875, 0.75, 2.1875]]
    assert linear_quantize_out(torch.tensor([[4.5, 2.25]]), 2).tolist() == [[3.9375, 2.25]]
    assert linear_quantize_out(torch.tensor([[3.0, 3.0]]), 2).tolist() == [[3.0, 3.0]]  # max = min: unchanged
    # all four conversions (2 input bits x 2 slices), each shifted by 2^z 4^k, data minus dummy:
    assert _tiny(2).matmul(X_IN).tolist() == [[[-1.5, 7.5], [-13.75, -7.5625]]]


def _scalar_reference(q, x, weight_bits, bits_per_cell, input_bits, ratio, adc_bits):
    """The wrapper's read-out written out in exact rational arithmetic, one conversion tensor at a time."""
    levels, half = 2**bits_per_cell, Fraction(2**weight_bits - 1, 2)
    slices = math.ceil(weight_bits / bits_per_cell)
    off = Fraction(levels - 1) / (Fraction(ratio) - 1)
    codes = [[round(half * (Fraction(int(v), 2 ** (weight_bits - 1)) + 1)) for v in row] for row in q]  # half to even
    outputs, positions = len(q), len(x[0])
    out = [[Fraction(0)] * outputs for _ in range(positions)]

    def adc(values):
        low, high = min(values), max(values)
        if adc_bits is None or high == low:
            return values
        width = (high - low) / 2**adc_bits
        return [low + min(math.floor((v - low) / width), 2**adc_bits - 1) * width for v in values]

    for z in range(input_bits):
        for k in range(slices):
            bits = [[(int(x[r][p]) >> z) & 1 for r in range(len(x))] for p in range(positions)]
            data = [sum(b * ((codes[o][r] // levels**k) % levels + off) for r, b in enumerate(bits[p]))
                    for p in range(positions) for o in range(outputs)]
            dummy = adc([sum(bits[p]) * (Fraction(levels - 1, 2) + off) for p in range(positions)])
            data = adc(data)
            for p in range(positions):
                for o in range(outputs):
                    out[p][o] += 2**z * levels**k * (data[p * outputs + o] - dummy[p])
    return [[float(v) for v in row] for row in out]


@pytest.mark.parametrize("bits_per_cell, adc_bits", [(1, 3), (2, 5), (4, 4), (2, None)])
def test_profile_equals_the_scalar_wrapper_semantics(bits_per_cell, adc_bits):
    g = torch.Generator().manual_seed(bits_per_cell)
    q = torch.randint(-127, 128, (5, 12), generator=g).double()
    x = torch.randint(0, 64, (1, 12, 4), generator=g).double()
    config = CimConfig(rows=12, weight_bits=8, input_bits=6, bits_per_cell=bits_per_cell, adc_bits=adc_bits,
                       state_off=1.0, state_on=10.0, profile="neurosim")
    got = build_array(q, config).matmul(x)[0]
    expected = torch.tensor(_scalar_reference(q.tolist(), x[0].tolist(), 8, bits_per_cell, 6, 10.0, adc_bits),
                            dtype=torch.float64)
    assert torch.allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_variation_is_redrawn_every_read_and_never_on_the_dummy():
    array = _tiny(None, (Variation(0.2),))
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([array.matmul(X_IN, gen) for _ in range(400)])
    assert not torch.equal(draws[0], draws[1])  # a fresh draw every forward pass
    ideal = _tiny(None).matmul(X_IN)
    assert torch.allclose(draws.mean(0), ideal, atol=0.6)  # zero-mean relative noise
    zero_inputs = torch.zeros(1, 3, 2)  # nothing reads: neither data nor dummy
    assert torch.equal(array.matmul(zero_inputs, gen), torch.zeros(1, 2, 2, dtype=torch.float64))


def test_v14_retention_by_hand():
    # target 1 ('max'): s = sign(1 - (x+1)/2) = +1 for x < 1; ratio 10^0.1; clamped to the tensor's min..max
    drift = Drift(time=10.0, coefficient=0.1, scenario="max")
    out = retention(torch.tensor([-0.5, 0.25, 0.5]), drift, None)
    assert out.tolist() == pytest.approx([-0.5, 0.25 * 10**0.1, 0.5])
    digits = retention(torch.tensor([1.0, 2.0, 3.0]), drift, None, 0.0)  # digits: (x+1)/2 = 1 -> s = 0, > 1 -> -1
    assert digits.tolist() == pytest.approx([1.0, 2 * 10**-0.1, 3 * 10**-0.1])
    # weights drift on the programmed digits: the read-out changes, deterministically for a fixed target
    drifted = _tiny(None, (drift,)).matmul(X_IN)
    assert not torch.equal(drifted, _tiny(None).matmul(X_IN))
    assert torch.equal(drifted, _tiny(None, (drift,)).matmul(X_IN))


def test_parallel_read_converts_each_read_on_its_own():
    # 3 rows read one at a time: every conversion tensor is one row's contribution
    ideal = _tiny(None, parallel_read=1).matmul(X_IN)
    assert ideal.tolist() == [[[4.0, 17.0], [-8.5, -0.5]]]  # ideal ADC: the split changes nothing
    assert not torch.equal(_tiny(2, parallel_read=1).matmul(X_IN), _tiny(2).matmul(X_IN))


def test_profile_refuses_effects_it_does_not_model():
    from cimgraph.accuracy import StuckAt

    with pytest.raises(AccuracyError, match="neurosim"):
        _tiny(None, (StuckAt(0.1, 0.0),))


def test_a_sum_on_a_bin_edge_keeps_its_code():
    # dummy column, on/off 10, 1-bit cells: n active rows read n c, c = 1/2 + 1/9 = 11/18 level. Sums 0, 9c, 12c on
    # a 2-bit ADC: bins of 12c/4 = 3c, so 9c = 5.5 is exactly the lower edge of bin 3 and keeps its value (exact
    # arithmetic); the float64 quotient 9c / 3c = 2.9999999999999996 floors it to bin 2 (6c = 11/3).
    v = torch.tensor([0.0, 9, 12], dtype=torch.float64) * (0.5 + 1 / 9)
    assert linear_quantize_out(v.clone(), 2).tolist() == pytest.approx([0.0, 5.5, 5.5], abs=1e-12)
    assert float(linear_quantize_out(v.clone(), 2, exact=False)[1]) == pytest.approx(11 / 3)


def test_tf32_reads_a_ten_bit_mantissa():
    # 0.1 = 1.6 x 2^-4 -> 1638 / 2^14; 0.55 = 1.1 x 2^-1 -> 563 / 2^10; 2.1 -> 2150 / 2^10 (truncated, not rounded)
    assert tf32(torch.tensor([0.1, 0.55, 1.0, 2.1])).tolist() == [1638 / 2**14, 563 / 2**10, 1.0, 2150 / 2**10]


@pytest.mark.parametrize("arithmetic, tol", [("float32", 1e-5), ("tf32", 0.02)])
def test_float_formats_read_the_hand_layer_within_their_rounding(arithmetic, tol):
    # no partial sum of the tiny layer sits on a bin edge, so NeuroSim's formats move it by their rounding only:
    # float32 by ~1e-7 relative, TF32's truncated states (up to 2^-10 relative) by at most 0.018 here
    for adc_bits, hand in ((None, [[[4.0, 17.0], [-8.5, -0.5]]]), (2, [[[-1.5, 7.5], [-13.75, -7.5625]]])):
        got = _tiny(adc_bits, arithmetic=arithmetic).matmul(X_IN)
        assert torch.allclose(got, torch.tensor(hand, dtype=torch.float64), rtol=0, atol=tol)
        assert not torch.equal(got, _tiny(adc_bits).matmul(X_IN))


def test_arithmetic_is_an_option_of_the_neurosim_profile_only():
    with pytest.raises(AccuracyError, match="arithmetic"):
        CimConfig(arithmetic="float32")
    with pytest.raises(AccuracyError, match="arithmetic"):
        CimConfig(profile="neurosim", arithmetic="float16")
