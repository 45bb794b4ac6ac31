"""Transmission-gate switch matrices (BL / SL / WL) and the column multiplexer bank.

Sources: DNN+NeuroSim V2 manual sec. 5.4(1) switch matrix (Fig. 16), 5.4(4) new switch matrix
(Fig. 18) and 5.4(5) mux (seed 001); NeuroSim SwitchMatrix.cpp / Mux.cpp sizing rule: the
transmission gate's resistance is at most ``ir_drop`` x the resistance of the line's load
(constant.h IR_DROP_TOLERANCE = 0.25), the load being the EXPECTED line resistance, i.e. the
line with every cell driven and the cells half on, half off (NeuroSim V1.4 SubArray.cpp:
``resMemCellAvg`` / numRowParallel gives the mux its load); NeuroTorch manual sec. 4 (seed 000)
for the pi-model line delay and CV^2 energy.

Line helpers (:func:`line_rc`, :func:`line_current`, :func:`tg_width`) are shared with the
decoders.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import one_of, optional_quantity, positive, quantity
from .arrays import sram_read_resistance
from .base import Component, Cost
from .circuit import (balanced_pmos_width, drain_cap, effective_width, gate_cap, horowitz, min_width, on_resistance,
                      switching_energy)
from .digital import (Block, Gate, bank_area, chain_block, dff, dff_width, int_field, inverter_chain,
                      transconductance_beta)

# NeuroSim constant.h IR_DROP_TOLERANCE: R_TG <= 0.25 x R_load of the line.
IR_DROP_TOLERANCE = 0.25
SIZINGS = ("expected", "worst")


def array_size(tech: Technology, cell: MemoryCell | None, rows: int, columns: int,
               array_width: float | None, array_height: float | None, where: str) -> tuple[float, float]:
    """(width, height) of the array in m: the injected values, else the cell pitch times the counts."""
    if array_width and array_height:
        return array_width, array_height
    if cell is None:
        raise CimgraphError(f"{where}: needs array_width and array_height (m) or a memory cell to derive them")
    f = tech.feature_size
    return (array_width or columns * cell.width_f * f, array_height or rows * cell.height_f * f)


def cell_line_cap(tech: Technology, cell: MemoryCell | None, gate_line: bool) -> float:
    """Capacitance one cell adds to a line (F): the access gate on a WL, the access drain (or the
    mean cell capacitance of a capacitive cell) on a BL/SL; none for two-terminal resistive cells."""
    if cell is None:
        return 0.0
    if cell.access_width:
        width = cell.access_width * tech.feature_size
        return gate_cap(tech, width) if gate_line else drain_cap(tech, width)
    if cell.is_capacitive and not gate_line:
        return (cell.c_on + cell.c_off) / 2
    return 0.0


def line_rc(tech: Technology, cell: MemoryCell | None, cells: int, length: float,
            gate_line: bool) -> tuple[float, float]:
    """(R, C) of one array line of ``length`` m crossing ``cells`` cells on the local metal."""
    wire = tech.wire_local
    return wire.r * length, wire.c * length + cells * cell_line_cap(tech, cell, gate_line)


def cell_conductance(tech: Technology, cell: MemoryCell, sizing: str = "worst") -> float:
    """Read conductance (S) of one resistive cell with its access transistor in series: the
    on-state (``worst``) or the mean of the on and off states (``expected``: a line whose cells
    are half on, half off, NeuroSim SubArray.cpp ``resMemCellAvg``)."""
    r_access = on_resistance(tech, cell.access_width * tech.feature_size) if cell.access_width else 0.0
    g_on = 1.0 / (cell.r_on + r_access)
    return g_on if sizing == "worst" else (g_on + 1.0 / (cell.r_off + r_access)) / 2


def line_current(tech: Technology, cell: MemoryCell | None, cells: int, voltage: float,
                 sizing: str = "worst") -> float:
    """Current (A) of a line driving ``cells`` cells at ``voltage``: every cell on (``worst``) or
    at the mean of its on and off conductance (``expected``); a 1T1R cell's access transistor is
    in series. Capacitive cells: C V / t_read (C_on, or the mean of C_on and C_off); SRAM: V over the
    access + pull-down stack of every cell (``worst``) or of the half that stores a one (``expected``;
    NeuroSim V1.4 SubArray.cpp sizes the SRAM mux for resCellAccess / (numRowParallel / 2))."""
    if cell is None:
        return 0.0
    if cell.is_resistive:
        return cells * voltage * cell_conductance(tech, cell, sizing)
    if cell.is_capacitive:
        c = cell.c_on if sizing == "worst" else (cell.c_on + cell.c_off) / 2
        return cells * c * voltage / cell.read_pulse
    if cell.family == "sram":
        # an SRAM cell conducts through its access and pull-down transistors when it stores a one
        return cells * voltage / sram_read_resistance(tech, cell) * (1.0 if sizing == "worst" else 0.5)
    return 0.0


def sizing_field():
    """The IR-drop rule's load: the expected line current (default) or the worst case."""
    return attrs.field(default="expected", validator=one_of(*SIZINGS), metadata={
        "doc": "TG sizing load: expected (cells half on, every cell driven; NeuroSim resMemCellAvg) | worst "
               "(every cell at R_on)"})


def read_input_field(default: bool, what: str):
    """Whether a row/column driver applies the input vector on every forward read (scheduler counts)."""
    return attrs.field(default=default, validator=attrs.validators.instance_of(bool),
                       metadata={"doc": f"driven on every forward read ({what})"})


# Subthreshold conduction (Weste & Harris, CMOS VLSI Design 4th ed., sec. 2.4.4, eq. 2.45):
# I_sub ~ 10^(eta V_ds / S) (1 - exp(-V_ds / v_T)), S = n v_T ln 10; typical eta ~ 0.1 (DIBL) and
# n ~ 1.4 for bulk planar nodes (same source).
DIBL = 0.1
SUBTHRESHOLD_N = 1.4
BOLTZMANN_OVER_Q = 8.617333262e-5   # V/K


def subthreshold_scale(tech: Technology, voltage: float) -> float:
    """Off current at |V_ds| = ``voltage`` over the tabulated off current (taken at V_ds = Vdd):
    DIBL lowers the barrier less at a smaller drain bias, and the drain term 1 - exp(-V_ds / v_T)
    vanishes at V_ds -> 0 (Weste & Harris eq. 2.45). 1 at Vdd; valid for 0 <= V_ds <= ~1.2 Vdd."""
    v_t = BOLTZMANN_OVER_Q * tech.temperature
    swing = SUBTHRESHOLD_N * v_t * math.log(10)
    drain = (1 - math.exp(-voltage / v_t)) / (1 - math.exp(-tech.vdd / v_t))
    return 10 ** (DIBL * (voltage - tech.vdd) / swing) * drain


def tg_leakage(tech: Technology, width_n: float, voltage: float) -> float:
    """Static power (W) of one OFF transmission gate holding ``voltage`` across it: the
    subthreshold current of both devices at that V_ds (the tabulated off-current per width, taken
    at Vdd, scaled by ``subthreshold_scale``) times ``voltage``. An ON gate has no voltage across
    it and does not leak."""
    width_p = effective_width(tech, balanced_pmos_width(tech, width_n))
    current = tech.i_off_n * effective_width(tech, width_n) + tech.i_off_p * width_p
    return voltage * current * subthreshold_scale(tech, voltage)


def tg_resistance(tech: Technology, width_n: float) -> float:
    """On-resistance (Ohm) of a transmission gate: NMOS ``width_n`` parallel to a balanced PMOS."""
    r_n = on_resistance(tech, width_n)
    r_p = on_resistance(tech, balanced_pmos_width(tech, width_n), pmos=True)
    return r_n * r_p / (r_n + r_p)


def tg_width(tech: Technology, current: float, voltage: float, ir_drop: float) -> float:
    """NMOS width (m) of a TG whose resistance is at most ``ir_drop`` x the load V / I."""
    w_min = min_width(tech)
    if current <= 0 or voltage <= 0:
        return w_min
    target = ir_drop * voltage / current
    return w_min * max(1.0, tg_resistance(tech, w_min) / target)


def tg_block(tech: Technology, width_n: float, height: float | None = None) -> tuple[Gate, float]:
    """A TG as a layout cell (laid out like an inverter of the same devices) and its gate load (F)."""
    size = width_n / min_width(tech)
    gate = Gate(tech, "inv", 1, size, height)
    return gate, gate.c_in


@attrs.frozen
class _SwitchMatrix(Component):
    """Shared body of the BL / SL / WL switch matrices (see the subclasses)."""

    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 5.4(1), Fig. 16 (seed 001); NeuroSim SwitchMatrix.cpp "
                             "IR-drop TG sizing")
    axis: ClassVar[str] = "rows"         # which array dimension the lines are counted along
    gate_line: ClassVar[bool] = False    # the lines drive access-transistor gates

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    cell: MemoryCell | None = attrs.field(default=None, metadata={"doc": "memory cell (injected)"})
    rows: int = int_field(1, 1 << 16, 128, "subarray rows (injected)")
    columns: int = int_field(1, 1 << 16, 128, "subarray columns (injected)")
    array_width: float | None = optional_quantity("m", "array width (injected; else from the cell pitch)")
    array_height: float | None = optional_quantity("m", "array height (injected; else from the cell pitch)")
    ir_drop: float = quantity("1", default=IR_DROP_TOLERANCE, doc="max TG resistance / line load resistance",
                              validator=positive)
    sizing: str = sizing_field()
    read_input: bool = read_input_field(True, "it applies the input bit-vector to the rows")

    # -- geometry of one line ------------------------------------------------------------
    @property
    def lines(self) -> int:
        return self.rows if self.axis == "rows" else self.columns

    def _dims(self) -> tuple[float, float, int]:
        """(line length, span of the bank, cells per line)."""
        width, height = array_size(self.tech, self.cell, self.rows, self.columns, self.array_width,
                                   self.array_height, self.kind)
        if self.axis == "rows":
            return width, height, self.columns
        return height, width, self.rows

    def pairs(self) -> list[tuple[float, float, float]]:
        """The TG pairs of one line's switch: (NMOS width, voltage passed, capacitance driven).

        A data line (BL / SL) passes V_read through a pair sized by the IR-drop rule for the line's
        read current; a write-path matrix (``read_input`` false, the SL matrix) passes V_write to one
        cell per line (a row-by-row write; NeuroSim's SL matrix is sized for one cell). A gate line
        (WL) passes Vdd through a minimum pair (no DC current) and, as the new switch matrix of
        pseudo-crossbar / FeFET arrays (Fig. 18b), also drives the row's BL through a second,
        IR-sized pair. An SRAM array's WL switch matrix drives the WLs only (seed 001 sec. 5.1(1):
        the inputs are fetched in via the WL switch matrix; the BLs are the read-out).
        """
        length, _, cells = self._dims()
        if self.read_input or self.cell is None:
            voltage = self.cell.read_voltage if self.cell is not None else self.tech.vdd
            current = line_current(self.tech, self.cell, cells, voltage, self.sizing)
        else:
            # a write-path matrix (SL): a row-by-row write puts one cell on each line, at V_write
            voltage = self.tech.vdd if self.cell.family == "sram" else self.cell.write_voltage
            current = self.cell.write_current or line_current(self.tech, self.cell, 1, voltage, self.sizing)
        data_width = tg_width(self.tech, current, voltage, self.ir_drop)
        data = (data_width, voltage, line_rc(self.tech, self.cell, cells, length, gate_line=False)[1])
        if not self.gate_line:
            return [data]
        gate = (min_width(self.tech), self.tech.vdd, line_rc(self.tech, self.cell, cells, length, gate_line=True)[1])
        if self.cell is not None and self.cell.family == "sram":
            return [gate]   # an SRAM row has no input data line: its BLs are the precharged outputs
        return [gate, data]

    def _held(self, voltage: float) -> float:
        """Voltage across a line's off TG between operations: a write-path eNVM matrix's V_write rail
        is gated off outside programming (as ``driver.write``'s supply), so its TGs hold at most the
        line's read potential; a read-path pair holds the voltage it passes."""
        if self.read_input or self.cell is None or self.cell.family == "sram":
            return voltage
        return min(voltage, self.cell.read_voltage)

    def _tg_width(self) -> float:
        """Width of the widest TG of a line's switch (m)."""
        return max(width for width, _, _ in self.pairs())

    def _parts(self) -> tuple[Block, float]:
        """One line's switch (control DFF, control chain, TG pairs) and its cell width in a row."""
        register = dff(self.tech)
        control = Block()
        width = dff_width(self.tech)
        switches = Block()
        for tg_n, voltage, c_line in self.pairs():
            tg, c_tg = tg_block(self.tech, tg_n)
            chain = inverter_chain(self.tech, Gate(self.tech).c_in, 2 * c_tg)
            block, _ = chain_block(chain, 2 * c_tg)
            control = control.beside(block)
            c_self = 2 * drain_cap(self.tech, tg.width_n + tg.width_p)
            t_line, _ = horowitz(tg_resistance(self.tech, tg_n) * (c_self + c_line), transconductance_beta(self.tech),
                                 math.inf)
            # the line's own C V^2 is the array's; the TG drains are the switch's. Of the pair
            # (to the line voltage / to ground) one is off with the voltage across it.
            switches = switches.beside(Block(2 * tg.geometry.area, tg_leakage(self.tech, tg_n, self._held(voltage)),
                                             t_line, switching_energy(c_self, voltage)))
            width += sum(g.width for g in chain) + 2 * tg.width
        return register.then(control).then(switches), width

    def _line(self) -> Block:
        return self._parts()[0]

    def _line_width(self) -> float:
        return self._parts()[1]

    def area(self) -> float:
        _, span, _ = self._dims()
        return bank_area(self.tech, self.lines, self._line_width(), span)

    def leakage(self) -> float:
        return self._line().leakage * self.lines

    def drive(self, input_activity: float = 0.5) -> Cost:
        """Apply one input bit-vector: every register loads, ``input_activity`` of the lines charge."""
        if not 0 <= input_activity <= 1:
            raise CimgraphError(f"{self.kind}.drive: input_activity must be in [0, 1], got {input_activity!r}")
        line = self._line()
        register = dff(self.tech)
        active = self.lines * input_activity
        energy = self.lines * register.energy + active * (line.energy - register.energy)
        return Cost(line.latency, energy)


@attrs.frozen
class BLSwitchMatrix(_SwitchMatrix):
    """BL switch matrix: per row, TGs connect the BL to the read voltage or ground as the input bit
    says (DNN+NeuroSim V2 sec. 5.4(1), Fig. 16a). TG width from the IR-drop rule with all cells of
    the row on; drive() = one input bit-vector: all control DFFs clock, the active lines' TGs
    switch and pass V_read (latency: the TG charging the line's capacitance). The line's own
    C V^2 and RC ladder are counted once, by the array model. Valid for any array size."""

    kind: ClassVar[str] = "switch.bl"
    axis: ClassVar[str] = "rows"


@attrs.frozen
class SLSwitchMatrix(_SwitchMatrix):
    """SL switch matrix: as switch.bl on the columns' source lines (used for transposed reads and
    writes; DNN+NeuroSim V2 sec. 5.4(1)). In a forward parallel read the SLs are the outputs,
    connected to the read-out through the column mux, so the matrix is not driven (``read_input``
    false by default; NeuroSim V1.4 SubArray.cpp calls its CalculatePower with no reads) and its
    TGs are sized for its write duty, one cell per SL at V_write (``read_input: true`` sizes them
    for a transposed read through the columns)."""

    kind: ClassVar[str] = "switch.sl"
    axis: ClassVar[str] = "columns"
    read_input: bool = read_input_field(False, "default no: the SLs carry the read-out; set true for an "
                                               "array read through its columns")


@attrs.frozen
class WLSwitchMatrix(_SwitchMatrix):
    """WL (new) switch matrix for pseudo-crossbar / FeFET arrays (DNN+NeuroSim V2 sec. 5.4(4),
    Fig. 18b; NewSwitchMatrix.cpp): per row one input bit controls a minimum TG pair driving the
    WL (access gates) to Vdd or ground and a second pair, sized by the IR-drop rule, driving the
    row's BL to V_read or ground, so no separate BL switch matrix is needed. With an SRAM cell it
    is the plain WL switch matrix of a parallel SRAM read (seed 001 sec. 5.1(1)): the WL pair only."""

    kind: ClassVar[str] = "switch.wl"
    axis: ClassVar[str] = "rows"
    gate_line: ClassVar[bool] = True


@attrs.frozen
class ColumnMux(Component):
    """Column multiplexer bank: ceil(columns / share) muxes, each ``share``-to-1 of TGs, so that
    one read circuit serves ``share`` columns (DNN+NeuroSim V2 sec. 5.4(5), Mux.cpp).

    One TG per column, sized by the IR-drop rule for the column's expected current (every row
    driven at V_read, cells half on, half off: NeuroSim V1.4 SubArray.cpp sizes the mux for
    resMemCellAvg / numRowParallel, 455 Ohm x 4 for its 100 kOhm cell; ``sizing: worst`` takes every
    cell at R_on; a sequential read-out puts one cell on the column, as NeuroSim sizes its mux for
    resMemCellOn there); the TGs are pitch-matched to the array width. select() = every mux switches to
    its next column: the selected TG's two diffusions charge to V_read and the TG settles the
    output node (the ``share`` drains); the select gates are the load of ``decoder.mux``, which
    counts them. Leakage: the off TGs with
    V_read across. Valid for 1 <= share <= columns.
    """

    kind: ClassVar[str] = "mux.column"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.4(5) (seed 001); NeuroSim Mux.cpp IR-drop TG sizing"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    cell: MemoryCell | None = attrs.field(default=None, metadata={"doc": "memory cell (injected)"})
    rows: int = int_field(1, 1 << 16, 128, "subarray rows (injected)")
    columns: int = int_field(1, 1 << 16, 128, "subarray columns (injected)")
    share: int = int_field(1, 1 << 16, 8, "columns per mux (per read circuit)")
    array_width: float | None = optional_quantity("m", "array width (injected; else from the cell pitch)")
    array_height: float | None = optional_quantity("m", "array height (injected; else from the cell pitch)")
    ir_drop: float = quantity("1", default=IR_DROP_TOLERANCE, doc="max TG resistance / column load resistance",
                              validator=positive)
    sizing: str = sizing_field()
    readout: str = attrs.field(default="parallel", validator=one_of("parallel", "sequential"), metadata={
        "doc": "the array's read-out (injected): parallel puts every row's cell on a column, sequential one"})

    def __attrs_post_init__(self) -> None:
        if self.share > self.columns:
            raise CimgraphError(f"{self.kind}: share ({self.share}) must not exceed columns ({self.columns})")

    @property
    def muxes(self) -> int:
        return math.ceil(self.columns / self.share)

    @property
    def voltage(self) -> float:
        return self.cell.read_voltage if self.cell is not None else self.tech.vdd

    def tg_width(self) -> float:
        """NMOS width (m) of one column's TG."""
        cells = self.rows if self.readout == "parallel" else 1
        return tg_width(self.tech, line_current(self.tech, self.cell, cells, self.voltage, self.sizing),
                        self.voltage, self.ir_drop)

    def select_load(self) -> float:
        """Gate capacitance one select line drives: one TG in every mux (F)."""
        return self.muxes * tg_block(self.tech, self.tg_width())[1]

    def area(self) -> float:
        width, _ = array_size(self.tech, self.cell, self.rows, self.columns, self.array_width, self.array_height,
                              self.kind)
        tg, _ = tg_block(self.tech, self.tg_width())
        return bank_area(self.tech, self.columns, tg.width, width)

    def leakage(self) -> float:
        """Every mux has one TG on and ``share - 1`` off, each off TG holding about V_read between
        the sensed output node and its idle column."""
        return (self.columns - self.muxes) * tg_leakage(self.tech, self.tg_width(), self.voltage)

    def select(self) -> Cost:
        """Every mux switches to its next column. The output node (the ``share`` TG drains) is the
        read-out's input, held at its clamp potential, and the newly selected column already sits
        at its read potential (its charge is the array's), so per mux only the selected TG's two
        diffusions charge to V_read (NeuroSim Mux.cpp counts the same two); latency = the TG
        settling the output node. The select gates are charged by the mux decoder that drives
        them (decoder.mux counts them as its load)."""
        w = self.tg_width()
        tg, _ = tg_block(self.tech, w)
        c_diffusion = drain_cap(self.tech, tg.width_n + tg.width_p)
        tau = tg_resistance(self.tech, w) * self.share * c_diffusion
        latency, _ = horowitz(tau, transconductance_beta(self.tech), math.inf)
        return Cost(latency, self.muxes * switching_energy(2 * c_diffusion, self.voltage))


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (BLSwitchMatrix, SLSwitchMatrix, WLSwitchMatrix, ColumnMux):
        registry.add_component(cls)
