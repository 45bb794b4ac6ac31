"""eNVM write drivers with level shifters (role "driver", kind ``driver.write``).

An eNVM cell is programmed at a write voltage V_w (2 V for NeuroSim V1.4's default 1T1R cell) above
the core supply Vdd (0.85 V at 22 nm LSTP). A core-logic signal cannot switch a line to V_w: a PMOS
whose source sits at V_w and whose gate is only raised to Vdd never turns off. Every line that
carries a write pulse therefore gets a level shifter and a driver on the write supply.

Circuit (NeuroSim V1.4 LevelShifter.cpp, its sizing in multiples of the 2F minimum NMOS and of the
PMOS of equal drive, r_eff,p / r_eff,n x 2F):

- an input inverter on Vdd (core devices, N 15x, P 20x) makes the complement of the write bit;
- a cross-coupled latch on V_w: two NMOS pull-downs (32x) driven by the bit and its complement
  against two cross-coupled PMOS pull-ups (10x); the ratio lets the NMOS win the contention;
- an output inverter on V_w (N 64x, P 82x) drives the line.

The latch and output are thick-oxide IO devices (NeuroSim: channel length 270 nm, a 2.5 V IO device
of 28-22 nm processes). Their longer channel sets the gate pitch of their layout, (L_io + 3F) in
place of 4F, and their drive, R = r_eff / W x L_io / F; their per-width parasitics are the core
values (an approximation: the longer channel and the thicker oxide partly cancel in C_gate).
When V_w <= Vdd no level shift is needed: the bank is the output inverter alone, on core devices
at Vdd.

SubArray.cpp places one shifter per WL and per BL (rows) and per SL (columns) of a 1T1R array, and
counts them in the area; its read path does not use them (the read inputs come from the WL switch
matrix at V_read), so they have no read action. An inference chip keeps the write supply off
outside programming (``supply_gated``, default true), so the V_w devices do not leak; the core
input inverters do. Sources also: DNN+NeuroSim V2 manual sec. 5.4(3) (seed 001: the write-voltage
bias applied to the selected row); NeuroTorch manual sec. 2 (seed 000: ``HighVoltage``, the voltage
of the level shifter for memory write operations).
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..units import one_of, optional_quantity, positive, quantity
from .base import Cost
from .circuit import (GATE_POLY_GAP, POLY_WIDTH, balanced_pmos_width, cell_height, drain_cap, gate_area, gate_cap,
                      horowitz, leakage_power, min_width, on_resistance, switching_energy)
from .decoders import _ArrayPeripheral
from .digital import bank_area, transconductance_beta
from .switches import line_rc

# Device widths in multiples of the minimum width (NeuroSim V1.4 LevelShifter.cpp).
INPUT_N, INPUT_P = 15, 20        # core input inverter (Vdd)
LATCH_N, LATCH_P = 32, 10        # cross-coupled latch, each side (V_w, IO devices)
OUTPUT_N, OUTPUT_P = 64, 82      # output inverter (V_w, IO devices)
IO_LENGTH = 270e-9               # IO device channel length (NeuroSim LevelShifter.cpp, 2.5 V IO devices)


@attrs.frozen
class Stage:
    """One inverter-like stage: NMOS/PMOS widths (m), supply (V), IO device or core, layout width (m)."""

    width_n: float
    width_p: float
    supply: float
    io: bool
    layout_width: float


@attrs.frozen
class WriteDriver(_ArrayPeripheral):
    """A bank of write drivers, one per array line along ``axis`` (rows: WL or BL; columns: SL),
    each a level shifter plus a V_w output inverter when the write voltage exceeds Vdd (see the
    module docstring for the circuit and its source).

    Area: the stages' standard-cell widths (IO stages widened by the gate-pitch ratio
    (L_io + 3F) / 4F) in one row per line, the rows pitch-matched along the array side.
    write() = one programming pulse as a row write uses the bank: a rows bank raises the selected
    row's line, a columns bank every column's line; per line the complement node charges at Vdd,
    each latch node once at V_w (the latch flips up and back), the output drain once at V_w.
    Latency = input inverter + latch flip + output inverter charging the line (the line's own
    C V_w^2 and RC ladder are the array's write()). Leakage: the core input inverters; the V_w
    devices too unless ``supply_gated``. Valid for V_w up to the IO devices' rating (~2.5-3.3 V).
    """

    kind: ClassVar[str] = "driver.write"
    source: ClassVar[str] = ("NeuroSim V1.4 LevelShifter.cpp (topology, sizing, 270 nm IO devices) and SubArray.cpp "
                             "(one per WL/BL/SL); DNN+NeuroSim V2 manual sec. 5.4(3) (seed 001)")

    axis: str = attrs.field(default="rows", validator=one_of("rows", "columns"),
                            metadata={"doc": "rows (one driver per row: WL or BL) | columns (per column: SL)"})
    gate_line: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool),
                                  metadata={"doc": "the lines are access-transistor gates (WL) rather than data lines"})
    voltage: float | None = optional_quantity("V", "write voltage (default: the cell's write_voltage)")
    io_length: float = quantity("m", default=IO_LENGTH, doc="channel length of the V_w (thick-oxide IO) devices",
                                validator=positive)
    supply_gated: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool),
                                     metadata={"doc": "write supply off outside programming: V_w devices do not leak"})

    # -- circuit ---------------------------------------------------------------------------
    @property
    def write_voltage(self) -> float:
        """The field, else the cell's write voltage (an SRAM cell is written at Vdd)."""
        if self.voltage is not None:
            return self.voltage
        if self.cell is None or self.cell.family == "sram":
            return self.tech.vdd
        return self.cell.write_voltage

    @property
    def shifts(self) -> bool:
        """A level shifter is needed: V_w above the core supply."""
        return self.write_voltage > self.tech.vdd

    @property
    def lines(self) -> int:
        return self.rows if self.axis == "rows" else self.columns

    def _pitch_ratio(self) -> float:
        """Gate pitch of an IO device over a core device's (one poly plus one contact gap each)."""
        f = self.tech.feature_size
        return (max(self.io_length, POLY_WIDTH * f) + GATE_POLY_GAP * f) / ((POLY_WIDTH + GATE_POLY_GAP) * f)

    def _stage(self, n: float, p: float, supply: float, io: bool) -> Stage:
        w_n = min_width(self.tech)
        w_p = balanced_pmos_width(self.tech, w_n)   # NeuroSim: pnSizeRatio x the minimum NMOS
        geometry = gate_area(self.tech, "inv", 1, n * w_n, p * w_p)
        width = geometry.area / (cell_height(self.tech)) * (self._pitch_ratio() if io else 1.0)
        return Stage(n * w_n, p * w_p, supply, io, width)

    def stages(self) -> dict[str, Stage]:
        """The stages of one line's driver (input, latch side, output; output only without a shift)."""
        v_w = self.write_voltage
        if not self.shifts:
            return {"output": self._stage(OUTPUT_N, OUTPUT_P, self.tech.vdd, io=False)}
        return {"input": self._stage(INPUT_N, INPUT_P, self.tech.vdd, io=False),
                "latch": self._stage(LATCH_N, LATCH_P, v_w, io=True),
                "output": self._stage(OUTPUT_N, OUTPUT_P, v_w, io=True)}

    def _line_width(self) -> float:
        stages = self.stages()
        return sum(s.layout_width * (2 if name == "latch" else 1) for name, s in stages.items())

    def _resistance(self, width: float, io: bool, pmos: bool = False) -> float:
        scale = max(self.io_length, self.tech.feature_size) / self.tech.feature_size if io else 1.0
        return on_resistance(self.tech, width, pmos) * scale

    def _line_cap(self) -> float:
        width, height = self._size()
        length, cells = (width, self.columns) if self.axis == "rows" else (height, self.rows)
        return line_rc(self.tech, self.cell, cells, length, self.gate_line)[1]

    def _pulse(self) -> tuple[float, float]:
        """(latency, energy) of one line's driver making one pulse."""
        tech, stages = self.tech, self.stages()
        beta = transconductance_beta(tech)
        out = stages["output"]
        c_out = drain_cap(tech, out.width_n + out.width_p)
        c_in_out = gate_cap(tech, out.width_n + out.width_p)
        t_out, _ = horowitz(self._resistance(out.width_p, out.io, pmos=True) * (c_out + self._line_cap()), beta,
                            math.inf)
        energy = switching_energy(c_out, out.supply)
        if not self.shifts:
            return t_out, energy
        inp, latch = stages["input"], stages["latch"]
        # complement node: the input inverter's drain and one latch pull-down gate
        c_inb = drain_cap(tech, inp.width_n + inp.width_p) + gate_cap(tech, latch.width_n)
        t_in, _ = horowitz(on_resistance(tech, inp.width_n) * c_inb, beta, math.inf)
        # latch node: both latch drains, the other side's PMOS gate, and (one side) the output gate
        c_node = drain_cap(tech, latch.width_n + latch.width_p) + gate_cap(tech, latch.width_p) + c_in_out
        t_latch, _ = horowitz(self._resistance(latch.width_p, True, pmos=True) * c_node, beta, math.inf)
        energy += switching_energy(c_inb, tech.vdd) + 2 * switching_energy(c_node, latch.supply)
        return t_in + t_latch + t_out, energy

    # -- component interface ---------------------------------------------------------------
    def area(self) -> float:
        width, height = self._size()
        span = height if self.axis == "rows" else width
        return bank_area(self.tech, self.lines, self._line_width(), span)

    def leakage(self) -> float:
        total = 0.0
        for name, s in self.stages().items():
            if s.io and self.supply_gated:
                continue
            copies = 2 if name == "latch" else 1
            total += copies * leakage_power(self.tech, s.width_n, s.width_p) * s.supply / self.tech.vdd
        return total * self.lines

    def write(self) -> Cost:
        """One programming pulse: a rows bank drives the selected row's line, a columns bank all lines."""
        latency, energy = self._pulse()
        active = 1 if self.axis == "rows" else self.lines
        return Cost(latency, active * energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    registry.add_component(WriteDriver)
