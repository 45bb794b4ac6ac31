"""SRAM read periphery: latch sense-amplifier bank (role "sense") and bit-line precharger bank
(role "precharge"), DNN+NeuroSim V2 manual sec. 5.1(1) Fig. 9(a).

Sizing follows NVSim / NeuroSim: sense-amplifier widths of NVSim constant.h (W_SENSE_P 7.5 F,
W_SENSE_N 3.75 F, W_SENSE_ISO 12.5 F, W_SENSE_EN 5 F); precharger PMOS 6 F and equaliser 2 F as in
NeuroSim Precharger.cpp. The bit-line charge restored after a read is counted by the array's read
(one place only); the precharger counts its own gates.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import int_range, positive, quantity
from . import circuit
from .base import Component, Cost

W_SENSE_P = 7.5
W_SENSE_N = 3.75
W_SENSE_ISO = 12.5
W_SENSE_EN = 5.0
W_PRECHARGE = 6.0
W_EQUALIZE = 2.0


def transconductance(tech: Technology, width: float) -> float:
    """Saturation g_m (S) of an NMOS of ``width`` at full gate drive: 2 I_on W / (Vdd - Vth)."""
    return 2 * tech.i_on_n * circuit.effective_width(tech, width) / (tech.vdd - tech.vth)


@attrs.frozen
class LatchSense:
    """One cross-coupled latch sense amplifier (NVSim widths): area (m^2), node capacitance (F),
    regeneration time constant (s), enable capacitance (F), leakage (W)."""

    area: float
    node_cap: float
    tau: float
    enable_cap: float
    leakage: float


def latch_sense(tech: Technology) -> LatchSense:
    """Latch SA of two cross-coupled inverters, two isolation PMOS and one enable NMOS (NVSim).

    Regeneration: tau = C_node / g_m(W_N); resolving an input dV takes tau ln(Vdd / dV).
    """
    f = tech.feature_size
    wp, wn, wiso, wen = W_SENSE_P * f, W_SENSE_N * f, W_SENSE_ISO * f, W_SENSE_EN * f
    area = (2 * circuit.gate_area(tech, "inv", 1, wn, wp).area
            + circuit.gate_area(tech, "nand", 2, 0.0, wiso).area
            + circuit.gate_area(tech, "inv", 1, wen, 0.0).area)
    node = circuit.gate_cap(tech, wn + wp) + circuit.drain_cap(tech, wn + wp + wiso)
    leak = 2 * circuit.leakage_power(tech, wn, wp) + circuit.leakage_power(tech, wen, 0.0)
    return LatchSense(area, node, node / transconductance(tech, wn), circuit.gate_cap(tech, wen), leak)


@attrs.frozen(kw_only=True)
class SenseAmpSRAM(Component):
    """Bank of latch sense amplifiers, one per ``share`` columns (seed 001 Fig. 9(a)).

    sense(): every amplifier resolves the bit-line swing ``sense_voltage``: latency tau ln(Vdd/dV),
    energy per amplifier 2 C_node Vdd^2 (both nodes switch) + C_enable Vdd^2. Valid for dV << Vdd.
    """

    kind: ClassVar[str] = "sense.sram"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(1); NVSim constant.h sense-amp widths"

    tech: Technology = attrs.field(metadata={"doc": "CMOS node (injected)"})
    columns: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "columns (injected)"})
    share: int = attrs.field(default=1, validator=int_range(1, 1 << 16), metadata={"doc": "columns per amplifier"})
    sense_voltage: float = quantity("V", default=0.1, validator=positive, doc="bit-line swing at sensing")

    @property
    def count(self) -> int:
        return math.ceil(self.columns / self.share)

    def area(self) -> float:
        return self.count * latch_sense(self.tech).area

    def leakage(self) -> float:
        return self.count * latch_sense(self.tech).leakage

    def sense(self) -> Cost:
        sa = latch_sense(self.tech)
        vdd = self.tech.vdd
        latency = sa.tau * math.log(vdd / min(self.sense_voltage, vdd / 2))
        energy = self.count * (circuit.switching_energy(2 * sa.node_cap + sa.enable_cap, vdd))
        return Cost(latency, energy)


@attrs.frozen(kw_only=True)
class PrechargerSRAM(Component):
    """Bank of bit-line prechargers, one per column: two precharge PMOS (BL, BLB) and an equaliser.

    precharge(): restore the bit line through the precharge PMOS; latency Horowitz of
    R_p (C_BL) with C_BL = rows x (local wire over a cell height + access drain capacitance);
    energy = the enable line (all precharger gates) switched once. The restored bit-line charge is
    counted in the array's read.
    """

    kind: ClassVar[str] = "precharge.sram"
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.1(1); NeuroSim Precharger.cpp sizing"

    tech: Technology = attrs.field(metadata={"doc": "CMOS node (injected)"})
    cell: MemoryCell = attrs.field(metadata={"doc": "memory cell (injected)"})
    rows: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "rows (injected)"})
    columns: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "columns (injected)"})

    def _widths(self) -> tuple[float, float]:
        f = self.tech.feature_size
        return W_PRECHARGE * f, W_EQUALIZE * f

    def bitline_cap(self) -> float:
        f = self.tech.feature_size
        access = (self.cell.access_width or circuit.MIN_WIDTH) * f
        if self.tech.quantised:   # the node's bit cell (arrays.cell_pitch)
            from .arrays import cell_pitch

            wire = self.tech.wire_local.c * cell_pitch(self.tech, self.cell)[1]
        else:
            wire = self.tech.wire_local.c * self.cell.height_f * f
        return self.rows * (wire + circuit.drain_cap(self.tech, access))

    def area(self) -> float:
        pre, eq = self._widths()
        return self.columns * circuit.gate_area(self.tech, "nor", 3, 0.0, max(pre, eq)).area

    def leakage(self) -> float:
        pre, eq = self._widths()
        return self.columns * circuit.leakage_power(self.tech, 0.0, 2 * pre + eq)

    def precharge(self) -> Cost:
        pre, eq = self._widths()
        tau = circuit.on_resistance(self.tech, pre, pmos=True) * (self.bitline_cap() + circuit.drain_cap(self.tech, pre + eq))
        latency, _ = circuit.horowitz(tau, 0.0, math.inf)
        energy = self.columns * circuit.switching_energy(circuit.gate_cap(self.tech, 2 * pre + eq), self.tech.vdd)
        return Cost(latency, energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    """Register sense.sram and precharge.sram."""
    registry.add_component(SenseAmpSRAM)
    registry.add_component(PrechargerSRAM)
