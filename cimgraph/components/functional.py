"""Neural function units: max pooling, ReLU and sigmoid (lookup table).

Sources: DNN+NeuroSim V2 manual sec. 4, Fig. 3 (pooling and activation units at chip level,
seed 001); NeuroSim MaxPooling.cpp (comparator tree over the pooling window), Sigmoid.cpp (an SRAM
lookup table of entries x output bits with a WL decoder and sense amplifiers); Weste & Harris
sec. 11.2 (comparator as a subtractor's carry out); NeuroTorch manual sec. 4 (seed 000).
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..tech.technology import Technology
from .base import Component, Cost
from .buffers import SramMacro, buffer_cell
from .circuit import drain_cap, horowitz, switching_energy
from .digital import (DATA_ACTIVITY, Block, Gate, chain_block, clock_field, clocked, int_field, inverter_chain,
                      ripple_adder, transconductance_beta)
from .switches import tg_block, tg_resistance


def comparator_select(tech: Technology, bits: int) -> Block:
    """max(a, b) of two ``bits``-bit values: a subtractor (ripple adder, b inverted) whose carry out
    drives a buffered select into ``bits`` 2:1 TG muxes. Latency: inverters, adder, select
    buffer, TG pass; energy with data activity 0.5."""
    inv = Gate(tech)
    inverters = Block(bits * inv.geometry.area, bits * inv.leakage, inv.delay(inv.c_in)[0],
                      bits * inv.energy(inv.c_in, DATA_ACTIVITY))
    adder = ripple_adder(tech, bits)
    tg, c_gate = tg_block(tech, inv.width_n)
    c_select = 2 * bits * c_gate
    select, _ = chain_block(inverter_chain(tech, inv.c_in, c_select), c_select, activity=DATA_ACTIVITY)
    c_out = 2 * drain_cap(tech, tg.width_n + tg.width_p) + inv.c_in
    t_tg, _ = horowitz(tg_resistance(tech, tg.width_n) * c_out, transconductance_beta(tech), math.inf)
    muxes = Block(2 * bits * tg.geometry.area, 2 * bits * tg.leakage, t_tg,
                  bits * switching_energy(c_out, tech.vdd, DATA_ACTIVITY))
    return inverters.then(adder).then(select).then(muxes)


@attrs.frozen
class MaxPooling(Component):
    """Max-pooling units: each takes the maximum of ``window`` values of ``psum_bits`` bits with a
    tree of window - 1 compare-and-select stages, ceil(log2 window) deep (NeuroSim MaxPooling.cpp).

    pool() = one pooled output of every one of the ``copies`` units. Valid for window >= 2.
    """

    kind: ClassVar[str] = "pool.max"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4, Fig. 3 (seed 001); NeuroSim MaxPooling.cpp"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    window: int = int_field(2, 1024, 4, "values pooled into one output (e.g. 4 for 2x2)")
    psum_bits: int = int_field(1, 64, 8, "bits of each value (injected)")
    copies: int = int_field(1, 1 << 20, 1, "pooling units working in parallel")
    clock: float | None = clock_field()

    def _unit(self) -> tuple[Block, int]:
        return comparator_select(self.tech, self.psum_bits), math.ceil(math.log2(self.window))

    def area(self) -> float:
        stage, _ = self._unit()
        return self.copies * (self.window - 1) * stage.area

    def leakage(self) -> float:
        stage, _ = self._unit()
        return self.copies * (self.window - 1) * stage.leakage

    def pool(self) -> Cost:
        stage, depth = self._unit()
        return Cost(clocked(depth * stage.latency, self.clock), self.copies * (self.window - 1) * stage.energy)


@attrs.frozen
class ReLU(Component):
    """ReLU units on two's-complement ``psum_bits``-bit values: the sign bit, inverted and buffered,
    gates every other bit through a NAND2 + inverter (y = x AND NOT sign).

    activate() = one output of every one of the ``copies`` units (data activity 0.5). Valid for
    psum_bits >= 2.
    """

    kind: ClassVar[str] = "activation.relu"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4, Fig. 3 (seed 001); Weste & Harris ch. 4 sizing"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    psum_bits: int = int_field(2, 64, 8, "bits of each value (injected)")
    copies: int = int_field(1, 1 << 20, 1, "ReLU units working in parallel")
    clock: float | None = clock_field()

    def _unit(self) -> Block:
        tech = self.tech
        nand, inv = Gate(tech, "nand", 2), Gate(tech)
        data_bits = self.psum_bits - 1
        c_sign = data_bits * nand.c_in
        sign, _ = chain_block(inverter_chain(tech, inv.c_in, c_sign), c_sign, activity=DATA_ACTIVITY)
        gate_pair, _ = chain_block([nand, inv], inv.c_in, activity=DATA_ACTIVITY)
        return sign.then(gate_pair.copies(data_bits))

    def area(self) -> float:
        return self.copies * self._unit().area

    def leakage(self) -> float:
        return self.copies * self._unit().leakage

    def activate(self) -> Cost:
        unit = self._unit()
        return Cost(clocked(unit.latency, self.clock), self.copies * unit.energy)


@attrs.frozen
class Sigmoid(Component):
    """Sigmoid units by lookup table, as NeuroSim Sigmoid.cpp: an SRAM table of 2^lut_bits entries
    of ``bits`` output bits, addressed by the top ``lut_bits`` bits of the input (a piecewise-
    constant sigmoid), with its own row decoder and sense amplifiers (:class:`SramMacro`).

    activate() = one table read in each of the ``copies`` units. Valid for lut_bits <= 16.
    """

    kind: ClassVar[str] = "activation.sigmoid"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4, Fig. 3 (seed 001); NeuroSim Sigmoid.cpp (SRAM LUT)"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    bits: int = int_field(1, 32, 8, "output precision (bits per table entry)")
    lut_bits: int = int_field(1, 16, 8, "table address bits (2^lut_bits entries)")
    copies: int = int_field(1, 1 << 20, 1, "sigmoid units working in parallel")

    def _table(self) -> SramMacro:
        entries = 2 ** self.lut_bits
        return SramMacro(self.tech, entries * self.bits, self.bits, buffer_cell())

    def area(self) -> float:
        return self.copies * self._table().area()

    def leakage(self) -> float:
        return self.copies * self._table().leakage()

    def activate(self) -> Cost:
        read = self._table().read()
        return Cost(read.latency, self.copies * read.energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (MaxPooling, ReLU, Sigmoid):
        registry.add_component(cls)
