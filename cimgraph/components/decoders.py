"""Decoders: row (WL) decoder, crossbar WL decoder with followers, mux decoder, decoder drivers.

Sources: DNN+NeuroSim V2 manual sec. 5.4(2) crossbar WL decoder (Fig. 17), 5.4(3) decoder driver,
5.4(4) new decoder driver (Fig. 18a), 5.4(5) mux decoder (seed 001); the predecoded NAND-NOR
decoder of NeuroSim RowDecoder.cpp / CACTI (2-to-4 and 3-to-8 NAND predecoders, one NOR per
output); NeuroTorch manual sec. 4 (seed 000): 28F standard cells, Horowitz delay, pi-model lines,
CV^2 energy; Weste & Harris ch. 4 (drivers sized with stage effort 4).
"""
from __future__ import annotations

import abc
import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import one_of, optional_quantity, positive, quantity
from .base import Component, Cost
from .circuit import cell_height, drain_cap, horowitz, switching_energy
from .digital import (STAGE_EFFORT, Block, Gate, bank_area, chain_block, int_field, inverter_chain,
                      transconductance_beta)
from .switches import (IR_DROP_TOLERANCE, ColumnMux, array_size, line_rc, read_input_field, sizing_field, tg_block,
                       tg_resistance, tg_width)


def predecode_groups(address_bits: int) -> list[int]:
    """Split the address into 3- and 2-bit predecoder groups (a lone bit only for 1-bit addresses)."""
    if address_bits <= 0:
        return []
    if address_bits == 1:
        return [1]
    threes, rest = divmod(address_bits, 3)
    if rest == 0:
        return [3] * threes
    if rest == 2:
        return [3] * threes + [2]
    return [3] * (threes - 1) + [2, 2]


@attrs.frozen
class DecoderCore:
    """A predecoded NAND-NOR decoder with ``outputs`` outputs, each driving a line of distributed
    capacitance ``c_line`` and resistance ``r_line`` plus a lumped ``c_end`` at the far end.
    With ``line_in_array`` the line is an array line whose C V^2 and RC ladder the array model
    counts: the drivers are sized for it and their delay into it is counted, nothing more.

    Address buffers (true and complement per bit) drive the predecoders; each predecoder output
    runs along the decoder (``span``, else a column of 28F cells) to outputs / 2^g NOR inputs; one
    NOR per output (an inverter for a single group) feeds an even inverter chain sized with stage
    effort 4 for the line. Per-output cells are pitch-matched along ``span``.
    """

    tech: Technology
    outputs: int
    c_line: float
    r_line: float = 0.0
    c_end: float = 0.0
    span: float | None = None
    line_in_array: bool = False

    @property
    def groups(self) -> list[int]:
        return predecode_groups(math.ceil(math.log2(self.outputs)) if self.outputs > 1 else 0)

    def _wire(self) -> tuple[float, float]:
        length = self.span or self.outputs * cell_height(self.tech)
        return self.tech.wire_local.r * length, self.tech.wire_local.c * length

    def _final_gate(self) -> Gate | None:
        k = len(self.groups)
        if k == 0:
            return None
        return Gate(self.tech, "inv") if k == 1 else Gate(self.tech, "nor", k)

    def predecode(self) -> Block:
        """Address buffers and predecoders: whole area and leakage, one decode's latency and energy."""
        final = self._final_gate()
        if final is None:
            return Block()
        r_w, c_w = self._wire()
        total = Block()
        for g in self.groups:
            outputs = 2 ** g
            fanout = math.ceil(self.outputs / outputs)
            load = fanout * final.c_in + c_w
            unit = Gate(self.tech, "inv") if g == 1 else Gate(self.tech, "nand", g)
            pre = Gate(self.tech, unit.kind, unit.inputs, max(1.0, load / (STAGE_EFFORT * unit.c_in)))
            t_pre, _ = pre.delay(load, extra_tau=r_w * (c_w / 2 + fanout * final.c_in))
            buffer_load = (outputs // 2) * pre.c_in
            buf = Gate(self.tech, "inv", 1, max(1.0, buffer_load / (STAGE_EFFORT * Gate(self.tech).c_in)))
            t_buf, _ = buf.delay(buffer_load)
            group = Block(
                area=outputs * pre.geometry.area + 2 * g * buf.geometry.area,
                leakage=outputs * pre.leakage + 2 * g * buf.leakage,
                latency=t_buf + t_pre,
                # half the address bits toggle (both rails); one predecoder line charges
                energy=g * buf.energy(buffer_load, 1.0) + pre.energy(load, 1.0),
            )
            total = total.beside(group)
        return total

    def path(self) -> tuple[Block, float]:
        """One output's NOR + driver chain into its line (Block for one output) and its cell width."""
        gates = []
        final = self._final_gate()
        if final is not None:
            gates.append(final)
        c_load = self.c_line + self.c_end
        drivers = inverter_chain(self.tech, Gate(self.tech).c_in, c_load, even=True)
        gates.extend(drivers)
        if self.line_in_array:
            block, _ = chain_block(gates, c_load, uncounted=self.c_line)
        else:
            block, _ = chain_block(gates, c_load, extra_tau=self.r_line * (self.c_line / 2 + self.c_end))
        return block, sum(g.width for g in gates)

    def block(self, selected: int = 1) -> Block:
        """The whole decoder; latency and energy of one decode raising ``selected`` outputs.

        Each decode charges every node of one output path once (the new output's rising nodes
        and the old one's), including its line unless the line is the array's.
        """
        pre = self.predecode()
        path, width = self.path()
        area = pre.area + bank_area(self.tech, self.outputs, width, self.span)
        leakage = pre.leakage + self.outputs * path.leakage
        return Block(area, leakage, pre.latency + path.latency, pre.energy + selected * path.energy)


# -- component models ----------------------------------------------------------------------

@attrs.frozen
class _ArrayPeripheral(Component):
    """Fields every array-side decoder shares (injected from the subarray)."""

    group: ClassVar[str] = "peripheral"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    cell: MemoryCell | None = attrs.field(default=None, metadata={"doc": "memory cell (injected)"})
    rows: int = int_field(2, 1 << 16, 128, "subarray rows (injected)")
    columns: int = int_field(1, 1 << 16, 128, "subarray columns (injected)")
    array_width: float | None = optional_quantity("m", "array width (injected; else from the cell pitch)")
    array_height: float | None = optional_quantity("m", "array height (injected; else from the cell pitch)")

    def _size(self) -> tuple[float, float]:
        return array_size(self.tech, self.cell, self.rows, self.columns, self.array_width, self.array_height,
                          self.kind)

    def _wl(self) -> tuple[float, float]:
        """(R, C) of one word line across the array."""
        width, _ = self._size()
        return line_rc(self.tech, self.cell, self.columns, width, gate_line=True)


class _CoreDecoder(_ArrayPeripheral):
    """A decoder that is one DecoderCore (``_core()``): area, leakage and a decode come from its block."""

    @abc.abstractmethod
    def _core(self) -> DecoderCore:
        """The decoder circuit sized for this instance."""

    def area(self) -> float:
        return self._core().block().area

    def leakage(self) -> float:
        return self._core().block().leakage

    def decode(self) -> Cost:
        return self._core().block().cost


@attrs.frozen
class RowDecoder(_CoreDecoder):
    """Row (WL) decoder for ``rows`` word lines, pitch-matched to the array height (NeuroSim
    RowDecoder.cpp; DNN+NeuroSim V2 sec. 5.4(2)).

    Predecoded NAND-NOR decoder with a driver chain per row sized for the word line (access
    gates of all columns plus the local wire). decode() = select one row: address buffers, one
    predecoder line per group, one row path driving its WL; the WL's own C V^2 and RC ladder are
    counted once, by the array model. Valid for 2 <= rows <= 65536.
    """

    kind: ClassVar[str] = "decoder.row"
    source: ClassVar[str] = ("NeuroSim RowDecoder.cpp (NAND-NOR predecoded decoder); DNN+NeuroSim V2 manual sec. "
                             "5.4(2) (seed 001); NeuroTorch manual sec. 4 (seed 000)")

    read_input: bool = read_input_field(True, "it selects the rows a read opens; false where it serves writes only")

    def _core(self) -> DecoderCore:
        r_line, c_line = self._wl()
        return DecoderCore(self.tech, self.rows, c_line, r_line, span=self._size()[1], line_in_array=True)


@attrs.frozen
class CrossbarWLDecoder(_ArrayPeripheral):
    """Crossbar WL decoder: a row decoder with a follower on every output that raises all WLs when
    ALLOPEN = 1 (DNN+NeuroSim V2 sec. 5.4(2), Fig. 17; WLDecoderOutput.cpp).

    Follower per row: NOR2 of the decoder output and ALLOPEN followed by a driver chain for the
    WL; ALLOPEN is buffered to all rows along the array height. decode() with ``all_open``
    (parallel read-out) drives every WL; otherwise it selects one row. The WLs' own C V^2 and RC
    ladder are the array model's. Valid for 2 <= rows <= 65536.
    """

    kind: ClassVar[str] = "decoder.wl"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.4(2), Fig. 17 (seed 001); NeuroSim WLDecoderOutput.cpp"

    all_open: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool),
                                 metadata={"doc": "ALLOPEN mode: every decode raises all WLs (parallel read)"})
    read_input: bool = read_input_field(True, "it raises the WLs a read opens; false where a WL switch matrix "
                                              "does and the decoder serves writes only")

    def _parts(self) -> tuple[Block, Block, Block, float]:
        """(decoder, one follower path incl. its WL, ALLOPEN buffer, follower cell width)."""
        tech = self.tech
        _, height = self._size()
        nor = Gate(tech, "nor", 2)
        decoder = DecoderCore(tech, self.rows, 0.0, 0.0, c_end=nor.c_in, span=height).block()
        _, c_line = self._wl()
        drivers = inverter_chain(tech, Gate(tech).c_in, c_line, even=True)
        follower, _ = chain_block([nor] + drivers, c_line, uncounted=c_line)  # the WL is the array's
        width = nor.width + sum(g.width for g in drivers)
        c_all = self.rows * nor.c_in + tech.wire_local.c * height
        buffer, _ = chain_block(inverter_chain(tech, Gate(tech).c_in, c_all), c_all,
                                extra_tau=tech.wire_local.r * height * c_all / 2)
        return decoder, follower, buffer, width

    def area(self) -> float:
        decoder, _, buffer, width = self._parts()
        return decoder.area + buffer.area + bank_area(self.tech, self.rows, width, self._size()[1])

    def leakage(self) -> float:
        decoder, follower, buffer, _ = self._parts()
        return decoder.leakage + buffer.leakage + self.rows * follower.leakage

    def decode(self) -> Cost:
        decoder, follower, buffer, _ = self._parts()
        if self.all_open:
            return Cost(buffer.latency + follower.latency, buffer.energy + self.rows * follower.energy)
        return Cost(decoder.latency + follower.latency, decoder.energy + follower.energy)


@attrs.frozen
class MuxDecoder(_CoreDecoder):
    """Mux decoder: a ``share``-output NAND-NOR decoder whose every output drives the select gates
    of one TG in each of the ceil(columns/share) column muxes along the array width
    (DNN+NeuroSim V2 sec. 5.4(5); NeuroSim RowDecoder.cpp in mux mode). decode() = switch to
    the next column. Valid for 1 <= share <= columns.
    """

    kind: ClassVar[str] = "decoder.mux"
    placement_side: ClassVar[str] = "corner"   # a small block beside the mux, not pitch-matched
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.4(5) (seed 001); NeuroSim RowDecoder.cpp (mux decoder)"

    share: int = int_field(1, 1 << 16, 8, "columns per mux (decoder outputs)")
    ir_drop: float = quantity("1", default=IR_DROP_TOLERANCE, doc="IR-drop rule of the mux TGs it drives",
                              validator=positive)
    sizing: str = sizing_field()
    readout: str = attrs.field(default="parallel", validator=one_of("parallel", "sequential"),
                               metadata={"doc": "the array's read-out (injected; sizes the mux TGs it drives)"})

    def __attrs_post_init__(self) -> None:
        if self.share > self.columns:
            raise CimgraphError(f"{self.kind}: share ({self.share}) must not exceed columns ({self.columns})")

    def _core(self) -> DecoderCore:
        width, height = self._size()
        mux = ColumnMux(self.tech, self.cell, self.rows, self.columns, self.share, width, height, self.ir_drop,
                        self.sizing, self.readout)
        wire = self.tech.wire_local
        return DecoderCore(self.tech, self.share, wire.c * width, wire.r * width, c_end=mux.select_load())


@attrs.frozen
class DecoderDriver(_ArrayPeripheral):
    """WL decoder driver applying the write-voltage bias to the selected row (DNN+NeuroSim V2
    sec. 5.4(3), DecoderDriver.cpp), or with ``variant="pseudo"`` the new decoder driver of
    pseudo-crossbar / FeFET arrays that drives a row's WL and BL together (sec. 5.4(4), Fig. 18a).

    Per row: standard = an inverter and two TGs (write voltage / inhibit); pseudo = NAND2 +
    inverter and four TGs (WL pair, BL pair). TGs are sized by the IR-drop rule for a row write
    (all columns at the cell's write current). decode() = one row switches: its TG gates toggle
    and its TGs' drains charge, the WL to V_write (standard) or the WL to Vdd and the BL to V_write
    (pseudo); latency = the TG charging the line's capacitance. The line's own C V^2 and RC ladder
    are the array model's (its write()). Valid for 2 <= rows <= 65536.
    """

    kind: ClassVar[str] = "decoder.driver"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 5.4(3)-(4), Fig. 18 (seed 001); NeuroSim "
                             "DecoderDriver.cpp, WLNewDecoderDriver.cpp")

    variant: str = attrs.field(default="standard", validator=one_of("standard", "pseudo"),
                               metadata={"doc": "standard | pseudo (new decoder driver, WL and BL together)"})
    read_input: bool = read_input_field(False, "default no: it applies the write bias; set true for a pseudo "
                                               "driver that also raises the row of a sequential read")
    ir_drop: float = quantity("1", default=IR_DROP_TOLERANCE, doc="max TG resistance / row load resistance",
                              validator=positive)

    @property
    def _write_voltage(self) -> float:
        return self.cell.write_voltage if self.cell is not None else self.tech.vdd

    def _tg_width(self) -> float:
        current = self.columns * self.cell.write_current if self.cell is not None else 0.0
        return tg_width(self.tech, current, self._write_voltage, self.ir_drop)

    def _row(self) -> tuple[Block, float]:
        tech = self.tech
        width_n = self._tg_width()
        tg, c_tg = tg_block(tech, width_n)
        tgs = 4 if self.variant == "pseudo" else 2
        logic = [Gate(tech, "nand", 2), Gate(tech)] if self.variant == "pseudo" else [Gate(tech)]
        control, _ = chain_block(logic, tgs * c_tg)
        _, c_wl = self._wl()
        c_self = drain_cap(tech, tg.width_n + tg.width_p)
        r_tg = tg_resistance(tech, width_n)
        t_line, _ = horowitz(r_tg * (c_self + c_wl), transconductance_beta(tech), math.inf)
        if self.variant == "pseudo":
            charge = switching_energy(c_self, tech.vdd) + switching_energy(c_self, self._write_voltage)
        else:
            charge = switching_energy(c_self, self._write_voltage)
        toggles = 2 * switching_energy(tgs * c_tg, tech.vdd)  # old row off, new row on
        switches = Block(area=tgs * tg.geometry.area, leakage=tgs * tg.leakage, latency=t_line,
                         energy=charge + toggles)
        width = sum(g.width for g in logic) + tgs * tg.width
        return control.then(switches), width

    def area(self) -> float:
        row, width = self._row()
        return bank_area(self.tech, self.rows, width, self._size()[1])

    def leakage(self) -> float:
        return self.rows * self._row()[0].leakage

    def decode(self) -> Cost:
        return self._row()[0].cost


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (RowDecoder, CrossbarWLDecoder, MuxDecoder, DecoderDriver):
        registry.add_component(cls)
