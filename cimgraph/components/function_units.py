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

The per-row reciprocal / inverse square root (one per ``features`` elements) is left out. Each action
processes one element on every lane (``lanes`` elements). Validity: 4 <= bits <= 32.
"""
from __future__ import annotations

from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..tech.technology import Technology
from .base import Component, Cost
from .digital import Block, Gate, clock_field, clocked, dff, int_field, ripple_adder

# (adds, multiplies) per element
OPERATIONS = {"softmax": (5, 3), "layernorm": (4, 2), "gelu": (1, 3)}


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
        adds, multiplies = OPERATIONS[operation]
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
