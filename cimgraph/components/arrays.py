"""Synaptic array models (role "array"): SRAM, eNVM 1T1R pseudo-crossbar, crossbar, FeFET.

Architectures follow the DNN+NeuroSim V2 manual (seed 001) sec. 5.1 (parallel / sequential
read-out) and 5.2 (transposable arrays); line energies follow the NeuroSim methodology slides
(seed 002: E += C_WL Vdd^2 #WL + C_BL Vread^2 #BL); delays are Elmore RC ladders of the lines
(wire R/C of the node's local layer plus the cells' parasitics, seed 000 sec. 4) through
``circuit.horowitz`` with a step input, i.e. ln 2 x tau. Array models exclude their drivers
(switch matrices, decoders) and read-out (ADC, sense amplifiers): those are separate nodes.
"""
from __future__ import annotations

import abc
import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.cell_library import SRAM_6T
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import int_range, one_of, positive, quantity
from . import circuit
from .base import Component, Cost

TWO_TERMINAL_EXCLUDED = ("sram", "fefet", "flash")
THREE_TERMINAL = ("fefet", "flash")


def _fraction(where: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise CimgraphError(f"{where}: {name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _duration(where: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise CimgraphError(f"{where}: pulse must be a duration in (0, 1) s, got {value!r}")
    return float(value)


def _line(tech: Technology, cells: int, pitch: float, cap_per_cell: float) -> tuple[float, float]:
    """Total capacitance (F) and step-input 50 % delay (s) of a line across ``cells`` cells.

    The line is an RC ladder of ``cells`` sections (local wire over one cell pitch plus the cell's
    parasitic capacitance); its Elmore time constant r c n (n + 1) / 2 goes through Horowitz.
    """
    r_seg = tech.wire_local.r * pitch
    c_seg = tech.wire_local.c * pitch + cap_per_cell
    tau = r_seg * c_seg * cells * (cells + 1) / 2   # == circuit.elmore of the uniform ladder
    delay, _ = circuit.horowitz(tau, 0.0, math.inf)
    return c_seg * cells, delay


def sram_widths(tech: Technology, cell: MemoryCell) -> tuple[float, float, float]:
    """(access, pull-down, pull-up) transistor widths (m) of an SRAM cell, from the cell's fields in F."""
    if cell.access_width is None or cell.pulldown_width is None or cell.pullup_width is None:
        raise CimgraphError(f"cell {cell.name}: an SRAM model needs access_width, pulldown_width and pullup_width "
                            f"(F), got {cell.access_width}, {cell.pulldown_width}, {cell.pullup_width}")
    f = tech.feature_size
    return cell.access_width * f, cell.pulldown_width * f, cell.pullup_width * f


def sram_read_resistance(tech: Technology, cell: MemoryCell) -> float:
    """Read resistance (Ohm) of one SRAM cell storing a one: the access transistor in series with the
    pull-down (NeuroSim SubArray.cpp resCellAccess + resPullDown)."""
    access, pulldown, _ = sram_widths(tech, cell)
    return circuit.on_resistance(tech, access) + circuit.on_resistance(tech, pulldown)


def cell_pitch(tech: Technology, cell: MemoryCell) -> tuple[float, float]:
    """(width, height) of one cell (m): its F-based size, except an SRAM cell on a FinFET / GAA node that
    gives its high-density 6T bit cell (NeuroSim V1.4 Param.cpp), scaled by the cell's size relative to
    the library 6T cell (an 8T cell stays 30 % wider)."""
    f = tech.feature_size
    if cell.family == "sram" and tech.sram_cell_width is not None:
        return (tech.sram_cell_width * cell.width_f / SRAM_6T.width_f,
                tech.sram_cell_height * cell.height_f / SRAM_6T.height_f)
    return cell.width_f * f, cell.height_f * f


@attrs.frozen(kw_only=True)
class _Array(Component):
    """Fields and geometry shared by every array kind."""

    group: ClassVar[str] = "array"

    tech: Technology = attrs.field(metadata={"doc": "CMOS node (injected)"})
    cell: MemoryCell = attrs.field(metadata={"doc": "memory cell (injected)"})
    rows: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "rows"})
    columns: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "columns"})
    readout: str = attrs.field(default="parallel", validator=one_of("parallel", "sequential"),
                               metadata={"doc": "parallel (all rows per input bit) | sequential (row by row)"})
    reference_columns: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(int_range(0, 1 << 16)),
        metadata={"doc": "dummy columns (default: one weight's cells for parallel eNVM, else 0)"})
    cells_per_weight: int = attrs.field(default=1, validator=int_range(1, 64),
                                        metadata={"doc": "cells per weight (injected)"})

    def __attrs_post_init__(self) -> None:
        self._check_cell()

    @abc.abstractmethod
    def _check_cell(self) -> None:
        """Raise (via ``_reject``) unless the memory cell is one this array kind can model."""

    def _reject(self, expected: str) -> None:
        raise CimgraphError(
            f"{self.kind}: cannot model memory cell {self.cell.name!r} (family {self.cell.family!r}, access "
            f"{self.cell.access!r}); expected {expected}. Pick a matching array kind or cell "
            "(`cimgraph components` lists them)")

    # -- geometry --------------------------------------------------------------------------
    @property
    def dummy_columns(self) -> int:
        """Reference (dummy) columns actually placed beside the array."""
        if self.reference_columns is not None:
            return self.reference_columns
        return self._default_reference_columns()

    def _default_reference_columns(self) -> int:
        return 0

    @property
    def cell_width(self) -> float:
        return cell_pitch(self.tech, self.cell)[0]

    @property
    def cell_height(self) -> float:
        return cell_pitch(self.tech, self.cell)[1]

    def width(self) -> float:
        """Array width (m): (columns + dummy columns) x cell width."""
        return (self.columns + self.dummy_columns) * self.cell_width

    def height(self) -> float:
        """Array height (m): rows x cell height."""
        return self.rows * self.cell_height

    def area(self) -> float:
        """Cell area in F^2 x rows x (columns + dummy columns), in m^2."""
        return self.width() * self.height()

    def _active_rows(self, lines: int, input_activity: float) -> float:
        return lines * input_activity if self.readout == "parallel" else 1.0


@attrs.frozen(kw_only=True)
class _ResistiveArray(_Array):
    """Analog eNVM array read by currents: shared read / write physics.

    One input bit-cycle (parallel read-out): ``input_activity`` x rows input lines are raised to
    V_read; every cell on them conducts G(w) = 1 / (1/(G_off + w (G_on - G_off)) + R_access) for the
    mean programmed level w = ``weight_density``; dummy columns sit at the middle conductance
    (seed 001 sec. 7.1). Energy = input lines C V_read^2 + gate lines C V_dd^2 + output lines
    C V_read^2 + sum(V_read^2 G) t_read; latency = input/gate line delay + output line delay (Elmore
    of the column plus the cells' parallel resistance charging it) + the read pulse. Sequential
    read-out drives one row. IR drop and sneak paths are not modelled (ideal selector for crossbars,
    seed 001 sec. 5.1(3)). Valid for linear I-V cells; the read voltage is below any switching threshold.
    """

    def _default_reference_columns(self) -> int:
        return self.cells_per_weight if self.readout == "parallel" else 0

    # per-kind hooks ----------------------------------------------------------------------
    def _access_resistance(self) -> float:
        return 0.0

    def _gate_cap_per_cell(self) -> float:
        """Capacitance a gate line (WL) sees per cell; 0 when the array has no gate line."""
        return 0.0

    def _input_cap_per_cell(self) -> float:
        return 0.0

    def _output_cap_per_cell(self) -> float:
        return 0.0

    def _gate_voltage(self) -> float:
        return self.tech.vdd

    # physics -----------------------------------------------------------------------------
    def conductance(self, level: float) -> float:
        """Effective read conductance (S) of one cell at normalised level ``level`` incl. access device."""
        g = self.cell.g_off + level * (self.cell.g_on - self.cell.g_off)
        return 1.0 / (1.0 / g + self._access_resistance())

    def _mac(self, in_lines: int, in_pitch: float, out_lines: int, out_pitch: float, out_dummy: int,
             input_activity: float, weight_density: float, pulse: float | None = None) -> Cost:
        """One input bit-cycle with ``in_lines`` input lines (each across ``out_lines + out_dummy``
        cells at pitch ``in_pitch``) and output lines across ``in_lines`` cells at ``out_pitch``."""
        tech, cell = self.tech, self.cell
        cells_per_line = out_lines + out_dummy
        active = self._active_rows(in_lines, input_activity)
        c_in, d_in = _line(tech, cells_per_line, in_pitch, self._input_cap_per_cell())
        c_gate, d_gate = _line(tech, cells_per_line, in_pitch, self._gate_cap_per_cell())
        has_gate = self._gate_cap_per_cell() > 0
        c_out, d_out = _line(tech, in_lines, out_pitch, self._output_cap_per_cell())
        g_data, g_dummy = self.conductance(weight_density), self.conductance(0.5)
        g_column = active * g_data
        t_out = circuit.horowitz(c_out / g_column, 0.0, math.inf)[0] if g_column > 0 else 0.0
        pulse = cell.read_pulse if pulse is None else _duration(self.kind, pulse)
        latency = max(d_in, d_gate if has_gate else 0.0) + d_out + t_out + pulse
        v = cell.read_voltage
        energy = (circuit.switching_energy(c_in, v, active)
                  + (circuit.switching_energy(c_gate, self._gate_voltage(), active) if has_gate else 0.0)
                  + circuit.switching_energy(c_out, v, cells_per_line)
                  + v * v * active * (out_lines * g_data + out_dummy * g_dummy) * pulse)
        return Cost(latency, energy)

    def read(self, input_activity: float = 0.5, weight_density: float = 0.5, pulse: float | None = None) -> Cost:
        """One input bit-cycle on the rows (parallel: all rows; sequential: one row).

        ``pulse``: how long each column's cells conduct (s); the scheduler passes the time a column is
        sensed (mux + ADC: behind the column mux the other columns float and draw no DC current,
        cimgraph.schedule.counts.sensing_step); default the cell's read pulse."""
        a = _fraction(self.kind, "input_activity", input_activity)
        w = _fraction(self.kind, "weight_density", weight_density)
        return self._mac(self.rows, self.cell_width, self.columns, self.cell_height, self.dummy_columns, a, w, pulse)

    def read_transposed(self, input_activity: float = 0.5, weight_density: float = 0.5,
                        pulse: float | None = None) -> Cost:
        """Transposed read (backpropagation, seed 001 sec. 5.2): inputs on the columns through the
        SL/BL switch matrix, outputs along the rows; no dummy rows. ``pulse`` as for ``read`` (the
        transposed read-out's sensing time per row)."""
        a = _fraction(self.kind, "input_activity", input_activity)
        w = _fraction(self.kind, "weight_density", weight_density)
        return self._mac(self.columns, self.cell_height, self.rows, self.cell_width, 0, a, w, pulse)

    def write(self, update: float = 1.0) -> Cost:
        """Program one row (row-by-row weight update, seed 001 sec. 5.1): an LTP phase then an LTD
        phase, each a train of up to ``update`` x levels pulses (``update``: largest change in the row
        as a fraction of the full conductance range). Every data cell takes on average half of the
        pulses (it is potentiated or depressed); per pulse a cell dissipates V_w I_w t_w (V_w^2 G_mid t_w
        when the cell gives no write current) and its column line is charged to V_w; the selected
        row's lines are charged once per phase."""
        u = _fraction(self.kind, "update", update)
        tech, cell = self.tech, self.cell
        pulses_ltp = math.ceil(u * cell.levels_ltp)
        pulses_ltd = math.ceil(u * cell.levels_ltd)
        c_in, d_in = _line(tech, self.columns + self.dummy_columns, self.cell_width, self._input_cap_per_cell())
        c_gate, d_gate = _line(tech, self.columns + self.dummy_columns, self.cell_width, self._gate_cap_per_cell())
        c_out, d_out = _line(tech, self.rows, self.cell_height, self._output_cap_per_cell())
        v = cell.write_voltage
        per_pulse = v * cell.write_current * cell.write_pulse if cell.write_current > 0 else \
            v * v * self.conductance(0.5) * cell.write_pulse
        mean_pulses = (pulses_ltp + pulses_ltd) / 2
        energy = (self.columns * mean_pulses * (per_pulse + circuit.switching_energy(c_out, v))
                  + 2 * (circuit.switching_energy(c_in, v) + self._write_gate_energy(c_gate)))
        latency = 2 * (max(d_in, d_gate) + d_out) + (pulses_ltp + pulses_ltd) * cell.write_pulse
        return Cost(latency, energy)

    def _write_gate_energy(self, c_gate: float) -> float:
        return circuit.switching_energy(c_gate, self.tech.vdd) if self._gate_cap_per_cell() > 0 else 0.0

    def leakage(self) -> float:
        """Non-volatile cells hold their state unbiased: no static current when idle (W)."""
        return 0.0


@attrs.frozen(kw_only=True)
class RRAMArray(_ResistiveArray):
    """eNVM 1T1R pseudo-crossbar array (seed 001 sec. 5.1(2), Fig. 10(a, b), 11(b)): BL (input) and
    WL run along rows, SL (output) along columns; every cell's access transistor (width from the
    cell, gate at Vdd) is in series with the device. Transposable by swapping BL and SL (sec. 5.2)."""

    kind: ClassVar[str] = "array.rram"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(2), 5.2; NeuroSim slides (seed 002) array CV^2"

    def _check_cell(self) -> None:
        c = self.cell
        if not c.is_resistive or c.family in TWO_TERMINAL_EXCLUDED:
            self._reject("a two-terminal resistive cell (family rram, ideal, ...) with r_on/r_off")
        if c.access_width is None:
            self._reject("a 1T1R cell with an access transistor (for an access-free cell use array.crossbar)")

    def _access_width(self) -> float:
        return self.cell.access_width * self.tech.feature_size

    def _access_resistance(self) -> float:
        return circuit.on_resistance(self.tech, self._access_width())

    def _gate_cap_per_cell(self) -> float:
        return circuit.gate_cap(self.tech, self._access_width())

    def _output_cap_per_cell(self) -> float:
        return circuit.drain_cap(self.tech, self._access_width())


@attrs.frozen(kw_only=True)
class CrossbarArray(_ResistiveArray):
    """eNVM crossbar (seed 001 sec. 5.1(3)): a two-terminal device at every WL/BL crossing with an
    ideal selector, no access transistor; WL (input) along rows, BL (output) along columns; lines are
    bare wires. Transposable by swapping WL and BL."""

    kind: ClassVar[str] = "array.crossbar"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(3), 5.2; NeuroSim slides (seed 002) array CV^2"

    def _check_cell(self) -> None:
        c = self.cell
        if not c.is_resistive or c.family in TWO_TERMINAL_EXCLUDED:
            self._reject("a two-terminal resistive cell (family rram, ideal, ...) with r_on/r_off")


@attrs.frozen(kw_only=True)
class FeFETArray(_ResistiveArray):
    """Analog FeFET (or floating-gate flash) pseudo-crossbar (seed 001 sec. 5.1(4), Fig. 10(c, d),
    Fig. 12): WL gates and RS (input read-select) lines along rows, BL (output) along columns. The
    cell is the transistor itself (an extra access transistor of ``cell.access_width`` when given);
    its channel conductance between G_off and G_on is read at V_read on RS. Writing pulses the gate
    of the selected row at the write voltage; the channel draws no write current unless the cell gives
    one. Transposable by swapping RS and BL."""

    kind: ClassVar[str] = "array.fefet"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(4), 5.2, Fig. 12; NeuroSim slides (seed 002)"

    def _check_cell(self) -> None:
        c = self.cell
        if not c.is_resistive or c.family not in THREE_TERMINAL:
            self._reject("a three-terminal transistor cell (family fefet or flash) with r_on/r_off")

    def _device_width(self) -> float:
        width_f = self.cell.access_width if self.cell.access_width is not None else circuit.MIN_WIDTH
        return width_f * self.tech.feature_size

    def _access_resistance(self) -> float:
        if self.cell.access_width is None:
            return 0.0
        return circuit.on_resistance(self.tech, self._device_width())

    def _gate_cap_per_cell(self) -> float:
        return circuit.gate_cap(self.tech, self._device_width())

    def _input_cap_per_cell(self) -> float:
        return circuit.drain_cap(self.tech, self._device_width())

    def _output_cap_per_cell(self) -> float:
        return circuit.drain_cap(self.tech, self._device_width())

    def write(self, update: float = 1.0) -> Cost:
        """Program one row: as the resistive write, plus the selected gate line charged to the write
        voltage at every pulse (seed 001 Fig. 12(a): gate pulses program the FeFET)."""
        base = super().write(update)
        u = _fraction(self.kind, "update", update)
        pulses = math.ceil(u * self.cell.levels_ltp) + math.ceil(u * self.cell.levels_ltd)
        c_gate, _ = _line(self.tech, self.columns + self.dummy_columns, self.cell_width, self._gate_cap_per_cell())
        return base + Cost(0.0, pulses * circuit.switching_energy(c_gate, self.cell.write_voltage))


@attrs.frozen(kw_only=True)
class SRAMArray(_Array):
    """SRAM synaptic array (seed 001 sec. 5.1(1), Fig. 9): 6T cells for inference, 8T cells with a
    decoupled, rotated read port for transposable (training) arrays (sec. 5.2).

    Read = bit-line discharge: the selected WL(s) open the access transistor in series with the
    pull-down (the cell's access_width / pulldown_width / pullup_width), the cell current
    I = Vdd / (R_access + R_pulldown) develops the sense voltage dV on the precharged BL in
    t = C_BL dV / I. Sequential read-out opens one row; parallel read-out (multilevel sensing, [8] of
    seed 001) opens ``input_activity`` x rows and each column's BL falls by one step for every
    conducting cell, the step being min(dV, Vdd / rows) so that a full column stays within the supply. Energy = WL C Vdd^2 + C_BL Vdd x swing per column (charge the precharger
    restores, counted here once). Write = one row: WL plus full-swing BL per column. Leakage: each
    cell's off transistors at Vdd.
    """

    kind: ClassVar[str] = "array.sram"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(1), 5.2; cell transistor widths, Param.cpp minSenseVoltage"

    transposable: bool = attrs.field(default=False, metadata={"doc": "8T transposable array (training)"})
    sense_voltage: float = quantity("V", default=0.1, validator=positive,
                                    doc="BL swing per sensed cell (NeuroSim minSenseVoltage)")

    def _check_cell(self) -> None:
        if self.cell.family != "sram":
            self._reject("an SRAM cell (family sram)")
        if self.transposable and self.cell.access != "8t":
            self._reject("an 8T SRAM cell for a transposable array (e.g. sram.8t)")
        if None in (self.cell.access_width, self.cell.pulldown_width, self.cell.pullup_width):
            self._reject("an SRAM cell with access, pull-down and pull-up transistor widths")

    def _widths(self) -> tuple[float, float, float]:
        return sram_widths(self.tech, self.cell)

    def cell_current(self) -> float:
        """Read current (A) of one cell: Vdd over the access + pull-down stack."""
        return self.tech.vdd / sram_read_resistance(self.tech, self.cell)

    def _lines(self, word_cells: int, word_pitch: float, bit_cells: int, bit_pitch: float):
        access, _, _ = self._widths()
        ports = 1 if self.cell.access == "8t" else 2  # 6T: BL and BLB access gates on the WL
        wl = _line(self.tech, word_cells, word_pitch, ports * circuit.gate_cap(self.tech, access))
        bl = _line(self.tech, bit_cells, bit_pitch, circuit.drain_cap(self.tech, access))
        return wl, bl

    def _read(self, word_lines: int, word_cells: int, word_pitch: float, bit_pitch: float,
              input_activity: float, weight_density: float) -> Cost:
        vdd = self.tech.vdd
        (c_wl, d_wl), (c_bl, d_bl) = self._lines(word_cells, word_pitch, word_lines, bit_pitch)
        active = self._active_rows(word_lines, input_activity)
        if self.readout == "parallel":
            # per-cell step scaled so that every row conducting still fits in the supply
            step = min(self.sense_voltage, vdd / word_lines)
            swing = active * weight_density * step
        else:
            step = swing = self.sense_voltage   # BL or BLB of every column falls by dV
        t_sense = c_bl * step / self.cell_current()
        latency = d_wl + d_bl + t_sense
        energy = circuit.switching_energy(c_wl, vdd, active) + word_cells * c_bl * vdd * swing
        return Cost(latency, energy)

    def read(self, input_activity: float = 0.5, weight_density: float = 0.5) -> Cost:
        """One input bit-cycle (parallel) or one row (sequential) by bit-line discharge."""
        a = _fraction(self.kind, "input_activity", input_activity)
        w = _fraction(self.kind, "weight_density", weight_density)
        return self._read(self.rows, self.columns, self.cell_width, self.cell_height, a, w)

    def read_transposed(self, input_activity: float = 0.5, weight_density: float = 0.5) -> Cost:
        """Transposed read through the 8T cell's rotated read port (seed 001 sec. 5.2)."""
        if not self.transposable:
            raise CimgraphError(f"{self.kind}: read_transposed needs transposable: true (8T cells)")
        a = _fraction(self.kind, "input_activity", input_activity)
        w = _fraction(self.kind, "weight_density", weight_density)
        return self._read(self.columns, self.rows, self.cell_height, self.cell_width, a, w)

    def write(self) -> Cost:
        """Write one row: WL to Vdd, every BL pair driven full swing, the cell flips through its access
        transistor (Horowitz with the cell node's gate + drain capacitance)."""
        vdd = self.tech.vdd
        access, pulldown, pullup = self._widths()
        (c_wl, d_wl), (c_bl, d_bl) = self._lines(self.columns, self.cell_width, self.rows, self.cell_height)
        c_node = (circuit.gate_cap(self.tech, pulldown + pullup)
                  + circuit.drain_cap(self.tech, pulldown + pullup + access))
        flip, _ = circuit.horowitz(circuit.on_resistance(self.tech, access) * c_node, 0.0, math.inf)
        energy = circuit.switching_energy(c_wl, vdd) + self.columns * circuit.switching_energy(c_bl, vdd)
        return Cost(d_wl + d_bl + flip, energy)

    def leakage(self) -> float:
        """Static power (W): per cell, one pull-down and one pull-up off, plus the access transistor
        (8T: and the read-port stack) facing a precharged bit line."""
        access, pulldown, pullup = self._widths()
        ports = 2 if self.cell.access == "8t" else 1
        access, pulldown, pullup = (circuit.effective_width(self.tech, w) for w in (access, pulldown, pullup))
        per_cell = self.tech.vdd * (self.tech.i_off_n * (pulldown + ports * access) + self.tech.i_off_p * pullup)
        return per_cell * self.rows * (self.columns + self.dummy_columns)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    """Register the built-in array kinds."""
    for cls in (SRAMArray, RRAMArray, CrossbarArray, FeFETArray):
        registry.add_component(cls)
