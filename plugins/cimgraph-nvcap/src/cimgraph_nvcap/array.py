"""Charge-domain nvCap subarray (``array.nvcap``): a selector-less capacitive crossbar.

Read (one input bit-cycle): every bit line (column) is reset to 0 V and left floating; the rows
whose input bit is 1 step to V_read. Each column's cells share charge on the floating bit line,
which settles at

    V_BL = V_read * sum_{active i} C_i / (sum_{all i} C_i + C_BL,wire)

and is read by a voltage-sense ADC (the ADC node of the subarray). Afterwards the bit lines are
reset while the rows are still high, then the rows return to 0. Over that cycle the row drivers
deliver the charge C_active V_read per column (the floating-phase charge C_a V (C_t - C_a) / C_t
plus C_a V_BL at reset), so the read energy is V_read^2 (sum_active C_i + C_WL,wire) -- linear in
input activity and in the on-state density. There is no DC path: the array draws no static power.

Latency: the charge delay (time allowed for the charge to redistribute and the sense input to
settle; NeuroSim V1.5 ``chargeDelay``, 5 ns, seed 003) plus the Elmore delays of the word line
(loaded by its cells' coupling capacitance) and of the bit line.

Write (program one row, V/2 half-select scheme of selector-less crossbars): the row goes to
V_write, the columns to 0 (program) or V_write/2 (inhibit); every cell of the row charges to
V_write, the half-selected cells of the other rows to V_write/2, plus the cell write current over
the pulse if the cell gives one. Latency: the write pulse plus the word-line Elmore delay.

Sources: Luo et al., "Experimental demonstration of non-volatile capacitive crossbar array for
in-memory computing", IEDM 2021; Luo, Read, Lu & Yu, ASP-DAC 2024; NeuroSim V1.5 README (seed 003:
capacitive memory, ``chargeDelay``); CV^2 energy and Elmore delay as in seed 000 sec. 4.
Validity: linear (small-signal) capacitors, read voltage below the coercive voltage; wires on the
local layer; the row drivers and their resistance belong to the switch matrix node.
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from cimgraph.components import circuit
from cimgraph.components.base import Component, Cost
from cimgraph.errors import CimgraphError
from cimgraph.tech.cells import MemoryCell
from cimgraph.tech.technology import Technology
from cimgraph.units import int_range, one_of, optional_quantity, positive, quantity


class NvCapCellError(CimgraphError, ValueError):
    """array.nvcap was given a cell without on/off capacitances."""


def _fraction(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise CimgraphError(f"array.nvcap: {name} must be a number from 0 to 1, got {value!r}")
    return float(value)


@attrs.frozen
class NvCapArray(Component):
    """A rows x columns nvCap crossbar read out in the charge domain (see the module docstring)."""

    kind: ClassVar[str] = "array.nvcap"
    group: ClassVar[str] = "array"
    source: ClassVar[str] = ("charge sharing on a floating bit line, voltage-sense read-out (Luo et al., IEDM "
                             "2021; Luo, Read, Lu & Yu, ASP-DAC 2024); chargeDelay from NeuroSim V1.5 (seed 003); "
                             "CV^2 energy and Elmore delay (seed 000 sec. 4)")

    tech: Technology = attrs.field(metadata={"doc": "technology node (injected)"})
    cell: MemoryCell = attrs.field(metadata={"doc": "capacitive memory cell with c_on/c_off (injected)"})
    rows: int = attrs.field(default=128, validator=int_range(1, 4096), metadata={"doc": "word lines"})
    columns: int = attrs.field(default=128, validator=int_range(1, 4096), metadata={"doc": "bit lines"})
    readout: str = attrs.field(default="parallel", validator=one_of("parallel", "sequential"),
                               metadata={"doc": "parallel: all rows per input bit-cycle; sequential: one row"})
    charge_delay: float = quantity("s", default=5e-9, validator=positive,
                                   doc="time for charge sharing and sense settling (NeuroSim V1.5 chargeDelay)")
    read_voltage: float | None = optional_quantity("V", "row read voltage; none = the cell's read_voltage")

    def __attrs_post_init__(self) -> None:
        if not self.cell.is_capacitive:
            raise NvCapCellError(
                f"array.nvcap needs a capacitive cell (c_on and c_off in F), got {self.cell.name!r} "
                f"(family {self.cell.family}); use cell: nvcap.crossbar from the cimgraph-nvcap plugin")
        if not self.cell.c_on > self.cell.c_off > 0:
            raise NvCapCellError(f"array.nvcap: expected c_on > c_off > 0, got c_on={self.cell.c_on!r}, "
                                 f"c_off={self.cell.c_off!r}")

    # -- geometry and lines ----------------------------------------------------------------
    def width(self) -> float:
        return self.columns * self.cell.width_f * self.tech.feature_size

    def height(self) -> float:
        return self.rows * self.cell.height_f * self.tech.feature_size

    def area(self) -> float:
        return self.width() * self.height()

    @property
    def v_read(self) -> float:
        return self.read_voltage if self.read_voltage is not None else self.cell.read_voltage

    def mean_cell_cap(self, weight_density: float = 0.5) -> float:
        """Mean cell capacitance when a fraction ``weight_density`` of the cells is on (F)."""
        d = _fraction("weight_density", weight_density)
        return d * self.cell.c_on + (1 - d) * self.cell.c_off

    def bit_line_cap(self, weight_density: float = 0.5) -> float:
        """Total capacitance on one floating bit line: its cells plus the wire (F)."""
        return self.rows * self.mean_cell_cap(weight_density) + self.tech.wire_local.c * self.height()

    def bit_line_voltage(self, active_on: int, active_off: int, weight_density: float = 0.5) -> float:
        """V_BL after charge sharing with ``active_on`` on- and ``active_off`` off-cells driven (V)."""
        if not (0 <= active_on and 0 <= active_off and active_on + active_off <= self.rows):
            raise CimgraphError(f"array.nvcap: expected 0 <= active cells <= rows={self.rows}, "
                                f"got {active_on} on + {active_off} off")
        charge_cap = active_on * self.cell.c_on + active_off * self.cell.c_off
        return self.v_read * charge_cap / self.bit_line_cap(weight_density)

    def signal_swing(self, weight_density: float = 0.5) -> float:
        """Bit-line voltage step of one more on-cell versus an off-cell (one LSB of the sum, V)."""
        return self.v_read * (self.cell.c_on - self.cell.c_off) / self.bit_line_cap(weight_density)

    def _line_delay(self, segments: int, r_total: float, c_per_segment: float) -> float:
        """Elmore delay of a line cut into one RC segment per cell."""
        r = np.full(segments, r_total / segments)
        c = np.full(segments, c_per_segment)
        return circuit.elmore(r, c)

    def _word_line_delay(self, weight_density: float) -> float:
        wire = self.tech.wire_local
        per_cell = wire.c * self.cell.width_f * self.tech.feature_size + self.mean_cell_cap(weight_density)
        return self._line_delay(self.columns, wire.r * self.width(), per_cell)

    def _bit_line_delay(self, weight_density: float) -> float:
        wire = self.tech.wire_local
        per_cell = wire.c * self.cell.height_f * self.tech.feature_size + self.mean_cell_cap(weight_density)
        return self._line_delay(self.rows, wire.r * self.height(), per_cell)

    # -- actions -----------------------------------------------------------------------------
    def read(self, input_activity: float = 0.5, weight_density: float = 0.5) -> Cost:
        """One input bit-cycle: all rows (parallel) or one row (sequential), ``input_activity`` of
        them driven, charge shared on every bit line."""
        a = _fraction("input_activity", input_activity)
        driven = a * (self.rows if self.readout == "parallel" else 1)
        word_line = self.tech.wire_local.c * self.width()
        charged = driven * (self.columns * self.mean_cell_cap(weight_density) + word_line)
        latency = self.charge_delay + self._word_line_delay(weight_density) + self._bit_line_delay(weight_density)
        return Cost(latency, circuit.switching_energy(charged, self.v_read))

    def write(self) -> Cost:
        """Program one row (V/2 half-select): the row's cells to V_write, the others to V_write / 2."""
        cell, wire = self.cell, self.tech.wire_local
        v = cell.write_voltage
        selected = wire.c * self.width() + self.columns * cell.c_on
        half = self.columns * (wire.c * self.height() + (self.rows - 1) * self.mean_cell_cap())
        energy = (circuit.switching_energy(selected, v) + circuit.switching_energy(half, v / 2)
                  + self.columns * cell.write_current * v * cell.write_pulse)
        return Cost(cell.write_pulse + self._word_line_delay(1.0), energy)

    def leakage(self) -> float:
        """Capacitors pass no DC current; the array itself draws no static power (W)."""
        return 0.0
