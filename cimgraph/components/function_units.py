"""Transformer function units (role "function", kind ``function.unit``): softmax, layer norm and GELU lanes.

Each lane is fixed-point digital logic built from the toolkit's ripple-carry adders
(``digital.ripple_adder``) and an array multiplier of ``bits`` x ``bits`` (Weste & Harris, "CMOS VLSI
Design", 4th ed., sec. 11.9: ``bits``^2 AND partial products reduced by ``bits`` - 1 rows of ``bits``-bit
adders, critical path ~ one 2 x ``bits`` ripple), with a register per stage. The operation counts per
element follow the usual integer formulations (I-BERT, S. Kim et al., ICML 2021; NeuroSim V1.5, seed 003,
runs these on digital function units):

* softmax: max search (1 compare), subtract the max (1 add), exp as 2^(x log2 e) with a shift for the integer
  part and a second-order polynomial for the fraction (2 multiplies, 2 adds), row sum (1 add), normalise by
  the row reciprocal (1 multiply): 5 adds, 3 multiplies;
* layer norm: mean and mean-square sums (2 adds, 1 multiply), subtract the mean (1 add), scale by
  gamma / sqrt(var) and add beta (1 multiply, 1 add): 4 adds, 2 multiplies;
* GELU: x sigmoid(1.702 x) (Hendrycks & Gimpel, arXiv:1606.08415) with a piecewise-linear sigmoid:
  3 multiplies, 1 add.

Once per row (``row()``; a softmax row is one head's scores of one token, a layer-norm row one token's
features) the unit also forms the row's reciprocal (softmax: 1 / sum) or inverse square root (layer norm:
1 / sqrt(var + eps)) by Newton-Raphson iteration (M. J. Flynn, "On division by functional iteration", IEEE
Trans. Computers C-19(8), 1970; I-BERT's integer square root, Kim et al. 2021, Algorithm 4): a linear seed
(1 multiply, 1 add; the minimax reciprocal seed 48/17 - 32/17 d is good to 1/17, about 4 bits), then
ceil(log2(bits / 4)) steps, each doubling the correct bits: reciprocal x (2 - d x) = 2 multiplies + 1 add,
inverse square root y (3 - x y^2) / 2 = 3 multiplies + 1 add (the halving is a shift).

Each action processes one element (``row()``: one row) on every lane (``lanes`` at once).
Validity: 4 <= bits <= 32.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..tech.technology import Technology
from .base import Component, Cost
from .digital import Block, Gate, clock_field, clocked, dff, int_field, ripple_adder

# (adds, multiplies) per element
OPERATIONS = {"softmax": (5, 3), "layernorm": (4, 2), "gelu": (1, 3)}
# per row: (adds, multiplies) of one Newton-Raphson step; the seed is 1 add + 1 multiply
ROW_STEPS = {"softmax": (1, 2), "layernorm": (1, 3)}
SEED_BITS = 4   # correct bits of the linear seed (reciprocal: relative error <= 1/17)


def newton_steps(bits: int) -> int:
    """Newton-Raphson steps from a ~4-bit seed to ``bits`` bits (each step doubles the correct bits)."""
    return max(0, math.ceil(math.log2(bits / SEED_BITS) - 1e-12))


def array_multiplier(tech: Technology, bits: int) -> Block:
    """``bits`` x ``bits`` array multiplier: partial-product NAND2s, ``bits`` - 1 adder rows; the critical path
    is one 2 x ``bits`` ripple (Weste & Harris sec. 11.9)."""
    nand = Gate(tech, "nand", 2)
    products = Block(bits * bits * nand.geometry.area, bits * bits * nand.leakage, nand.delay(2 * nand.c_in)[0],
                     bits * bits * nand.energy(2 * nand.c_in, 0.5))
    rows = ripple_adder(tech, bits).copies(bits - 1)
    return products.then(Block(rows.area, rows.leakage, ripple_adder(tech, 2 * bits).latency, rows.energy))


@attrs.frozen
class FunctionUnit(Component):
    """``lanes`` fixed-point lanes computing softmax, layer norm or GELU, one element per lane per action.

    A lane has one adder and one multiplier of ``bits`` bits plus a ``2 bits`` register; an element takes
    its operations (module table) one after another, each a clocked step. Area / leakage: the lanes.
    """

    kind: ClassVar[str] = "function.unit"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = ("NeuroSim V1.5 (seed 003) digital function units; I-BERT integer softmax / layer norm "
                             "(Kim et al., ICML 2021); Weste & Harris sec. 11.2.1, 11.9")

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    input_bits: int = int_field(4, 32, 8, "element precision (injected: the network's input bits)")
    lanes: int = int_field(1, 1 << 16, 64, "elements processed in parallel")
    clock: float | None = clock_field()

    def _parts(self) -> tuple[Block, Block, Block]:
        bits = self.input_bits
        return ripple_adder(self.tech, bits), array_multiplier(self.tech, bits), dff(self.tech).copies(2 * bits)

    def _lane(self) -> Block:
        adder, multiplier, register = self._parts()
        return adder.beside(multiplier).beside(register)

    def area(self) -> float:
        return self._lane().area * self.lanes

    def leakage(self) -> float:
        return self._lane().leakage * self.lanes

    def _element(self, operation: str) -> Cost:
        return self._steps(*OPERATIONS[operation])

    def row(self, operation: str) -> Cost | None:
        """One row's reciprocal (softmax) or inverse square root (layer norm) on every lane; None for an
        operation without a per-row step (GELU)."""
        if operation not in ROW_STEPS:
            return None
        adds, multiplies = ROW_STEPS[operation]
        steps = newton_steps(self.input_bits)
        return self._steps(1 + steps * adds, 1 + steps * multiplies)

    def _steps(self, adds: int, multiplies: int) -> Cost:
        adder, multiplier, register = self._parts()
        add_step = clocked(adder.latency + register.latency, self.clock)
        mul_step = clocked(multiplier.latency + register.latency, self.clock)
        energy = adds * adder.energy + multiplies * multiplier.energy + (adds + multiplies) * register.energy
        return Cost(adds * add_step + multiplies * mul_step, energy * self.lanes)

    def softmax(self) -> Cost:
        return self._element("softmax")

    def layernorm(self) -> Cost:
        return self._element("layernorm")

    def gelu(self) -> Cost:
        return self._element("gelu")

    def supports(self, kind: str) -> bool:
        return kind in OPERATIONS


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    registry.add_component(FunctionUnit)
