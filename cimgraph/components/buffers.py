"""On-chip buffers: an SRAM macro (6T cells, row decoder, precharge, column mux, sense amps, write
drivers) and a DFF-based register-file buffer.

Sources: DNN+NeuroSim V2 manual sec. 4 (global / tile / PE buffers, Fig. 3) and sec. 5.1(1) (the
6T SRAM read path, Fig. 9a) (seed 001); NeuroSim Buffer.cpp (an SRAM or DFF buffer with its own
decoders); the 6T cell is the built-in ``sram.6t`` (V2 manual Param.cpp: 20F x 8F, its transistor
widths as cell fields), minimum sense voltage 0.1 V; NeuroTorch manual sec. 4 (seed 000) for gate-level
area, delay and energy.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError, FieldError
from ..hookspecs import hookimpl
from ..tech.cell_library import SRAM_6T
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import int_range, one_of, positive, quantity
from .arrays import sram_widths
from .base import Component, Cost
from .circuit import drain_cap, gate_cap, horowitz, leakage_power, on_resistance, switching_energy, width_gain
from .decoders import DecoderCore, RowDecoder
from .digital import (DATA_ACTIVITY, DFF_TGS, Block, Gate, chain_block, clock_field, clocked, dff,
                      inverter_chain, transconductance_beta)
from .sram_periphery import PrechargerSRAM, SenseAmpSRAM
from .switches import ColumnMux, line_rc, tg_block, tg_resistance

MAX_COLUMN_MUX = 64  # widest column mux considered when shaping the macro


def _positive_bits(instance, attribute, value) -> None:
    if not (isinstance(value, float) and math.isfinite(value) and value >= 1):
        raise FieldError(f"{attribute.name}: expected a size of at least 1 bit such as '64kB', got {value!r}")


@attrs.frozen
class SramMacro:
    """A ``size``-bit SRAM macro read and written ``width`` bits at a time.

    Organisation: ``width`` x m columns (m = column-mux degree, a power of two up to 64) and
    ceil(size / columns) rows, m chosen to make the cell array most nearly square. Parts: 6T cell
    array, row decoder (decoder.row), bit-line prechargers (precharge.sram), m-to-1 column muxes
    with their decoder (mux.column / a DecoderCore), latch sense amps (sense.sram), and one write
    driver (inverter chain) per output bit.
    """

    tech: Technology
    size: int
    width: int
    cell: MemoryCell
    sense_voltage: float = 0.1

    @property
    def mux(self) -> int:
        best, best_score = 1, math.inf
        f = self.tech.feature_size
        m = 1
        while m <= MAX_COLUMN_MUX:
            columns = self.width * m
            rows = max(2, math.ceil(self.size / columns))
            score = abs(math.log((rows * self.cell.height_f * f) / (columns * self.cell.width_f * f)))
            if score < best_score and (m == 1 or rows >= 2):
                best, best_score = m, score
            if rows <= 2:
                break
            m *= 2
        return best

    @property
    def columns(self) -> int:
        return self.width * self.mux

    @property
    def rows(self) -> int:
        return max(2, math.ceil(self.size / self.columns))

    def _dims(self) -> tuple[float, float]:
        f = self.tech.feature_size
        return self.columns * self.cell.width_f * f, self.rows * self.cell.height_f * f

    def parts(self) -> dict[str, object]:
        width, height = self._dims()
        t, c = self.tech, self.cell
        parts: dict[str, object] = {
            "decoder": RowDecoder(t, c, self.rows, self.columns, width, height),
            "precharge": PrechargerSRAM(tech=t, cell=c, rows=self.rows, columns=self.columns),
            "sense": SenseAmpSRAM(tech=t, columns=self.columns, share=self.mux, sense_voltage=self.sense_voltage),
        }
        if self.mux > 1:
            # one cell drives the column during a memory read, so the TG passes one cell's current
            parts["mux"] = ColumnMux(t, c, 1, self.columns, self.mux, width, height)
        return parts

    def _mux_decoder(self) -> Block:
        if self.mux == 1:
            return Block()
        width, _ = self._dims()
        wire = self.tech.wire_local
        mux = self.parts()["mux"]
        return DecoderCore(self.tech, self.mux, wire.c * width, wire.r * width, c_end=mux.select_load()).block()

    def _write_driver(self) -> Block:
        c_bl = self.parts()["precharge"].bitline_cap()
        block, _ = chain_block(inverter_chain(self.tech, Gate(self.tech).c_in, c_bl, even=True), c_bl)
        return block

    def _cell_leakage(self) -> float:
        _, pulldown, pullup = sram_widths(self.tech, self.cell)
        return 2 * leakage_power(self.tech, pulldown, pullup)

    def area(self) -> float:
        f = self.tech.feature_size
        cells = self.rows * self.columns * self.cell.width_f * self.cell.height_f * f * f
        parts = sum(p.area() for p in self.parts().values())
        return cells + parts + self._mux_decoder().area + self.width * self._write_driver().area

    def leakage(self) -> float:
        cells = self.rows * self.columns * self._cell_leakage()
        parts = sum(p.leakage() for p in self.parts().values())
        return cells + parts + self._mux_decoder().leakage + self.width * self._write_driver().leakage

    def _wordline(self) -> Cost:
        """The selected word line itself (the row decoder counts only its drivers): the
        distributed RC delay (Elmore r c / 2) and its C Vdd^2."""
        width, _ = self._dims()
        r_wl, c_wl = line_rc(self.tech, self.cell, self.columns, width, gate_line=True)
        delay, _ = horowitz(r_wl * c_wl / 2, transconductance_beta(self.tech), math.inf)
        return Cost(delay, switching_energy(c_wl, self.tech.vdd))

    def _bitline(self) -> tuple[float, float]:
        """(bit-line capacitance, cell read current)."""
        c_bl = self.parts()["precharge"].bitline_cap()
        i_cell = (self.tech.i_on_n * self.cell.access_width * self.tech.feature_size
                  * width_gain(self.tech, self.cell.access_width * self.tech.feature_size))
        return c_bl, i_cell

    def read(self) -> Cost:
        """Decode, discharge the bit lines by the sense voltage, mux, sense, precharge back.

        Energy: decoder, mux decoder and muxes, sense amps, precharger gates, and the supply
        charge restoring every column's swing (C_BL dV Vdd)."""
        parts = self.parts()
        c_bl, i_cell = self._bitline()
        dv = min(self.sense_voltage, self.tech.vdd / 2)
        decode = parts["decoder"].decode() + self._wordline()
        mux_sel = self._mux_decoder().cost + (parts["mux"].select() if "mux" in parts else Cost())
        discharge = c_bl * dv / i_cell
        sense = parts["sense"].sense()
        precharge = parts["precharge"].precharge()
        latency = max(decode.latency, mux_sel.latency) + discharge + sense.latency + precharge.latency
        restore = self.columns * c_bl * dv * self.tech.vdd
        energy = decode.energy + mux_sel.energy + sense.energy + precharge.energy + restore
        return Cost(latency, energy)

    def write(self) -> Cost:
        """Decode, drive ``width`` bit lines full swing (one of each pair), the other columns of the
        row lose a read swing (half-selected), precharge back."""
        parts = self.parts()
        c_bl, _ = self._bitline()
        dv = min(self.sense_voltage, self.tech.vdd / 2)
        decode = parts["decoder"].decode() + self._wordline()
        driver = self._write_driver()
        mux_sel = self._mux_decoder().cost + (parts["mux"].select() if "mux" in parts else Cost())
        precharge = parts["precharge"].precharge()
        # the cell flips through its own inverters once the bit line has swung
        access, pulldown, pullup = sram_widths(self.tech, self.cell)
        node = gate_cap(self.tech, pulldown + pullup) + drain_cap(self.tech, pulldown + pullup + access)
        flip, _ = horowitz(on_resistance(self.tech, pulldown) * node, transconductance_beta(self.tech), math.inf)
        latency = max(decode.latency, mux_sel.latency, driver.latency) + flip + precharge.latency
        half_selected = (self.columns - self.width) * c_bl * dv * self.tech.vdd
        # the write drivers' energy includes their bit line's full-swing charge
        energy = decode.energy + mux_sel.energy + self.width * driver.energy + half_selected + precharge.energy
        return Cost(latency, energy)


def buffer_cell(width_f: float = SRAM_6T.width_f, height_f: float = SRAM_6T.height_f) -> MemoryCell:
    """The buffer's 6T SRAM cell: the built-in ``sram.6t`` (its transistor widths) drawn ``width_f`` x ``height_f``."""
    return attrs.evolve(SRAM_6T, name="buffer.sram6t", area_f2=width_f * height_f, width_f=width_f,
                        height_f=height_f)


def _size_field(default: float):
    return quantity("bit", default=default, doc="capacity", validator=_positive_bits)


def _width_field(default: int):
    return attrs.field(default=default, validator=int_range(1, 1 << 16),
                       metadata={"doc": "bits per read or write access (the port width)", "unit": "bit"})


HOLDS = ("both", "input", "output")


def _holds_field():
    return attrs.field(default="both", validator=one_of(*HOLDS),
                       metadata={"doc": "data it buffers: both | input (activations going down) | "
                                        "output (results going up), as NeuroSim's separate input and output buffers"})


@attrs.frozen
class SRAMBuffer(Component):
    """SRAM buffer of ``size`` bits accessed ``width`` bits at a time (NeuroSim Buffer.cpp SRAM mode).

    A single 6T macro shaped near-square (see :class:`SramMacro`). read() / write() = one access of
    ``width`` bits: latency of decode, bit-line swing, sensing (or write drive) and precharge;
    energy of every part plus the bit-line charge. Valid for size >= width; large buffers are one
    macro (no banking), so latency grows with sqrt(size).
    """

    kind: ClassVar[str] = "buffer.sram"
    group: ClassVar[str] = "buffer"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 4, 5.1(1) (seed 001); NeuroSim Buffer.cpp; "
                             "6T cell of NeuroSim Param.cpp")

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    size: float = _size_field(65536.0)
    width: int = _width_field(128)
    cell_width: float = quantity("1", default=SRAM_6T.width_f, doc="6T cell width in F", validator=positive)
    cell_height: float = quantity("1", default=SRAM_6T.height_f, doc="6T cell height in F", validator=positive)
    sense_voltage: float = quantity("V", default=0.1, doc="bit-line swing at sensing", validator=positive)
    holds: str = _holds_field()

    def __attrs_post_init__(self) -> None:
        if self.size < self.width:
            raise CimgraphError(f"{self.kind}: size ({self.size:g} bit) must be at least width ({self.width} bit)")

    def macro(self) -> SramMacro:
        return SramMacro(self.tech, math.ceil(self.size), self.width, buffer_cell(self.cell_width, self.cell_height),
                         self.sense_voltage)

    def area(self) -> float:
        return self.macro().area()

    def leakage(self) -> float:
        return self.macro().leakage()

    def read(self) -> Cost:
        return self.macro().read()

    def write(self) -> Cost:
        return self.macro().write()


@attrs.frozen
class DFFBuffer(Component):
    """Register-file buffer of ``size`` DFF bits in words of ``width`` (NeuroSim Buffer.cpp DFF mode).

    write(): a word decoder enables the clock of one word (NAND2 + inverter clock gate per word
    driving its ``width`` flip-flops), which then clock. read(): a tree of 2:1 transmission-gate
    muxes (log2(words) levels) per output bit selects the word; the level select lines toggle
    with probability 0.5. ``width`` is the port: one word moves per access. Data nodes (the
    flip-flops' inverters, the mux tree) switch only where a bit differs from the previous word's,
    with probability ``toggle`` (the scheduler passes the data's toggle rate), each toggle 1/2 C V^2
    on average. Synchronous with the injected ``clock``: an access takes whole clock cycles (one word
    per cycle, NeuroSim Buffer.cpp with synchronous = true). A buffer of several register-file cores
    (NeuroSim globalBufferCoreSizeRow x Col) is ``count`` instances. Valid for size >= width; best for
    small buffers (area ~ size x DFF).

    ``ports``: the write path (word decoder and clock gates into the flip-flops' D inputs) and the read path
    (the output mux trees) are separate circuits, so the file can be used as one write port and one read
    port (``ports: 2``): while a stream of words passes through, the write of one word and the read of an
    earlier one share a cycle, and the scheduler books the larger of the stream's write and read cycles
    instead of their sum (DNN+NeuroSim V1.4 Tile.cpp books a tile buffer's B bits as B / width / 2 reads
    and as many writes, B / width cycles in all). ``ports: 1`` (default) shares one port: a write and a
    read take a cycle each. Area and energy per access are the same either way (both paths are built).
    """

    kind: ClassVar[str] = "buffer.dff"
    group: ClassVar[str] = "buffer"
    source: ClassVar[str] = "NeuroSim Buffer.cpp (DFF mode), DFF.cpp; Weste & Harris sec. 10.3"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    size: float = _size_field(4096.0)
    width: int = _width_field(64)
    holds: str = _holds_field()
    clock: float | None = clock_field()
    ports: int = attrs.field(default=1, validator=int_range(1, 2),
                             metadata={"doc": "1: one shared read / write port; 2: a write port and a read port "
                                              "(a stream's writes and reads overlap)"})

    def __attrs_post_init__(self) -> None:
        if self.size < self.width:
            raise CimgraphError(f"{self.kind}: size ({self.size:g} bit) must be at least width ({self.width} bit)")

    @property
    def words(self) -> int:
        return math.ceil(self.size / self.width)

    def _clock_gate(self) -> tuple[Block, float]:
        """One word's clock gate into its flip-flops; returns the Block and the gate's input cap."""
        c_clk = self.width * Gate(self.tech).c_in * (DFF_TGS + 1)  # TG gates + local clock inverter
        gates = [Gate(self.tech, "nand", 2)] + inverter_chain(self.tech, Gate(self.tech).c_in, c_clk)
        block, _ = chain_block(gates, c_clk)
        return block, gates[0].c_in

    def _decoder(self) -> Block:
        _, c_in = self._clock_gate()
        return DecoderCore(self.tech, self.words, 0.0, c_end=c_in).block()

    def _mux_tree(self, toggle: float = 2 * DATA_ACTIVITY) -> tuple[Block, int]:
        """Per output bit: words - 1 TG 2:1 muxes in ceil(log2 words) levels (one pass per level)."""
        levels = math.ceil(math.log2(self.words)) if self.words > 1 else 0
        tg, c_gate = tg_block(self.tech, Gate(self.tech).width_n)
        c_node = 2 * drain_cap(self.tech, tg.width_n + tg.width_p) + c_gate
        tau = tg_resistance(self.tech, tg.width_n) * c_node
        t_level, _ = horowitz(tau, transconductance_beta(self.tech), math.inf)
        tgs = 2 * (self.words - 1)
        energy = levels * switching_energy(c_node, self.tech.vdd, toggle / 2)
        return Block(tgs * tg.geometry.area, tgs * tg.leakage, levels * t_level, energy), levels

    def area(self) -> float:
        gate, _ = self._clock_gate()
        tree, _ = self._mux_tree()
        return (self.words * self.width * dff(self.tech).area + self.words * gate.area + self._decoder().area
                + self.width * tree.area)

    def leakage(self) -> float:
        gate, _ = self._clock_gate()
        tree, _ = self._mux_tree()
        return (self.words * self.width * dff(self.tech).leakage + self.words * gate.leakage
                + self._decoder().leakage + self.width * tree.leakage)

    def read(self, toggle: float = 2 * DATA_ACTIVITY) -> Cost:
        """One word out through the mux trees; data nodes at ``toggle``."""
        tree, levels = self._mux_tree(toggle)
        # each level's select line reaches that level's TGs in every output bit's tree
        tg, c_gate = tg_block(self.tech, Gate(self.tech).width_n)
        select = switching_energy(2 * c_gate * self.width * max(self.words - 1, 0), self.tech.vdd, DATA_ACTIVITY)
        return Cost(clocked(tree.latency, self.clock), self.width * tree.energy + select)

    def write(self, toggle: float = 2 * DATA_ACTIVITY) -> Cost:
        """One word into its flip-flops (clock always, data nodes at ``toggle``)."""
        gate, _ = self._clock_gate()
        decoder = self._decoder()
        flop = dff(self.tech, toggle / 2)
        return Cost(clocked(decoder.latency + gate.latency + flop.latency, self.clock),
                    decoder.energy + gate.energy + self.width * flop.energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (SRAMBuffer, DFFBuffer):
        registry.add_component(cls)
