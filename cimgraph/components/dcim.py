"""Digital compute-in-memory: the SRAM DCIM array (role "array", kind ``array.dcim``).

Architecture (NeuroSim V1.4's DCIM macro, J. Lee et al., TCAS-I 2024, after Y.-D. Chih et al., "An 89TOPS/W
and 16.3TOPS/mm2 all-digital SRAM-based full-precision compute-in memory macro in 22nm", ISSCC 2021, and its
5 nm / 4 nm successors, H. Fujiwara et al., ISSCC 2022 and 2023): 6T SRAM cells hold one operand bit each;
inputs arrive bit-serially, one bit per cycle on a row's input line; beside every cell a two-input NOR of the
inverted input and the inverted stored bit forms the 1-bit product; a per-column adder tree sums the ``rows``
products exactly (no ADC); a per-column accumulator shifts and adds the tree output over the input bits. After
the last input bit, the ``cells_per_weight`` columns of one multi-bit operand are combined by a shift-add tree
(once per input vector, booked here as 1/input_bits of it per bit-cycle).

Built from the circuit toolkit: the NOR and input-line drive (``digital.Gate``, ``arrays._line``), the
adder tree and accumulator from nine-NAND2 ripple adders and TG flip-flops (``digital.ripple_adder``,
``digital.dff``), storage and row writes from :class:`~cimgraph.components.arrays.SRAMArray`.

Geometry: each cell is the SRAM cell plus its NOR (standard-cell area, laid out at the cell's height); the
column adder trees, accumulators and operand combiners sit below the array, one column pitch wide each.

Validity: SRAM cells (``sram.6t`` / ``sram.8t``), 2 <= rows <= 4096, parallel read-out only, every node of
the technology tables; activity: NOR outputs toggle with input x weight density, the adder-tree and
accumulator nodes with 0.5 (random data).
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..units import int_range
from .arrays import SRAMArray, _fraction, _line, cell_pitch
from .base import Cost
from .circuit import switching_energy
from .digital import Block, Gate, clocked, dff, ripple_adder


def adder_tree(tech, operands: int, bits: int) -> Block:
    """A tree of ripple-carry adders reducing ``operands`` values of ``bits`` bits (one add of each)."""
    total = Block()
    while operands > 1:
        adders = operands // 2
        total = total.then(ripple_adder(tech, bits).copies(adders))
        operands = adders + operands % 2
        bits += 1
    return total


@attrs.frozen(kw_only=True)
class DigitalCIMArray(SRAMArray):
    """SRAM digital-CIM array: bit-serial inputs, NOR multiply in each cell, per-column adder tree and
    accumulator, no ADC (see the module docstring for the architecture and sources).

    read() = one input bit on all rows: input lines, NOR products, every column's tree and accumulator
    (plus the per-vector operand combine, 1/input_bits of it). write() = program one row (the dynamic
    operand of an attention product is written row by row, SRAMArray.write).
    """

    kind: ClassVar[str] = "array.dcim"
    digital: ClassVar[bool] = True    # no analog read-out: reports list its tiles as DCIM
    source: ClassVar[str] = ("NeuroSim V1.4 DCIM (TCAS-I 2024); Chih et al. ISSCC 2021 (22 nm), Fujiwara et al. "
                             "ISSCC 2022 (5 nm); Weste & Harris sec. 10.3, 11.2.1")

    input_bits: int = attrs.field(default=8, validator=int_range(1, 32),
                                  metadata={"doc": "input precision = bit cycles accumulated (injected)"})
    clock: float | None = attrs.field(default=None, metadata={"doc": "digital clock (Hz, injected)", "unit": "Hz"})

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.readout != "parallel":
            raise CimgraphError(f"{self.kind}: digital CIM reads all rows every input bit (readout: parallel)")
        if self.rows < 2:
            raise CimgraphError(f"{self.kind}: rows must be at least 2, got {self.rows}")

    # -- sub-circuits ----------------------------------------------------------------------------
    def _nor(self) -> Gate:
        return Gate(self.tech, "nor", 2)

    @property
    def tree_bits(self) -> int:
        """Bits of a column's product sum: ceil(log2(rows + 1))."""
        return math.ceil(math.log2(self.rows + 1))

    @property
    def accumulator_bits(self) -> int:
        return self.tree_bits + self.input_bits

    def _column_tree(self) -> Block:
        return adder_tree(self.tech, self.rows, 1)

    def _accumulator(self) -> Block:
        bits = self.accumulator_bits
        return ripple_adder(self.tech, bits).then(dff(self.tech).copies(bits))

    def _combiner(self) -> Block:
        """Shift-add tree joining the cells_per_weight columns of one operand (once per input vector)."""
        return adder_tree(self.tech, self.cells_per_weight, self.accumulator_bits)

    def _digital(self) -> Block:
        """All column logic of the array (trees, accumulators, combiners), one operation each."""
        operands = max(1, self.columns // self.cells_per_weight)
        return (self._column_tree().then(self._accumulator()).copies(self.columns)
                .beside(self._combiner().copies(operands)))

    # -- geometry ----------------------------------------------------------------------------------
    @property
    def cell_width(self) -> float:
        """SRAM cell width plus its NOR laid out at the cell's height."""
        return cell_pitch(self.tech, self.cell)[0] + self._nor().geometry.area / self.cell_height

    def height(self) -> float:
        """Array rows plus the column logic below it (its area over the array width)."""
        return self.rows * self.cell_height + self._digital().area / self.width()

    def area(self) -> float:
        return self.width() * self.height()

    def leakage(self) -> float:
        nor = self._nor().leakage * self.rows * self.columns
        return super().leakage() + nor + self._digital().leakage

    # -- actions ---------------------------------------------------------------------------------------
    def read(self, input_activity: float = 0.5, weight_density: float = 0.5) -> Cost:
        """One input bit-cycle on all rows: drive the input lines, NOR products, column trees, accumulators."""
        a = _fraction(self.kind, "input_activity", input_activity)
        w = _fraction(self.kind, "weight_density", weight_density)
        nor = self._nor()
        c_line, d_line = _line(self.tech, self.columns, self.cell_width, nor.c_in)
        tree_in = Gate(self.tech, "nand", 2).c_in * 2   # a full adder input drives two NAND2
        d_nor, _ = nor.delay(tree_in)
        lines = switching_energy(c_line, self.tech.vdd, a * self.rows)
        products = self.rows * self.columns * nor.energy(tree_in, a * w)
        column = self._column_tree().then(self._accumulator())
        combine = self._combiner().copies(max(1, self.columns // self.cells_per_weight))
        energy = lines + products + column.energy * self.columns + combine.energy / self.input_bits
        latency = clocked(d_line + d_nor + column.latency, self.clock)
        return Cost(latency, energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    registry.add_component(DigitalCIMArray)
