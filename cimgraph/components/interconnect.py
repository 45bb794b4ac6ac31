"""Interconnect between hierarchy levels: the H-tree and the shared bus, with repeated wires.

Sources: DNN+NeuroSim V2 manual sec. 4.1 (seed 001): repeaters of optimal spacing and size
(eq. 4.1, 4.2) relaxed by a delay tolerance (globalBusDelayTolerance / localBusDelayTolerance, 0.1
in NeuroSim Param.cpp), and the H-tree of Fig. 5 whose wire length halves at every stage from the
main bus to the units while the sum of bus widths per stage equals the main bus width;
NeuroSim HTree.cpp / Bus.cpp (the main bus from the region's edge to the root is counted);
NeuroTorch manual sec. 4 (seed 000): Elmore / pi-model wire delay, CV^2 energy with activity.
"""
from __future__ import annotations

import abc
import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.technology import Technology
from ..units import int_range, non_negative, one_of, optional_quantity, quantity
from .base import Component, Cost
from .circuit import (balanced_pmos_width, drain_cap, gate_area, gate_cap, horowitz, leakage_power,
                      min_width, on_resistance, pi_wire_delay, repeated_wire, switching_energy)
from .digital import Block, int_field, transconductance_beta

# NeuroSim Param.cpp globalBusDelayTolerance = localBusDelayTolerance = 0.1.
DELAY_TOLERANCE = 0.1


def driver_size(tech: Technology, r_wire: float, c_wire: float, delay_tolerance: float) -> float:
    """Size (x minimum inverter) of a repeater driving one wire segment and the next repeater.

    Segment delay d(s) = A + B/s + C s with A = R (c_p + c), B = R C_w, C = R_w c (R, c, c_p of the
    minimum inverter; R_w, C_w of the segment), minimal at s* = sqrt(B / C) (eq. 4.2). With a delay
    tolerance t the smallest s with d(s) <= (1 + t) d(s*) is taken (less repeater energy and area);
    never below the minimum inverter.
    """
    w_n = min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    r, c, c_p = on_resistance(tech, w_n), gate_cap(tech, w_n + w_p), drain_cap(tech, w_n + w_p)
    a = r * (c_p + c) + r_wire * c_wire / 2
    b, k = r * c_wire, r_wire * c
    if k <= 0:
        return 1.0
    best = math.sqrt(b / k)
    if delay_tolerance > 0:
        slack = (1 + delay_tolerance) * (a + 2 * math.sqrt(b * k)) - a
        best = (slack - math.sqrt(max(slack * slack - 4 * b * k, 0.0))) / (2 * k)
    return max(1.0, best)


def wire_run(tech: Technology, length: float, layer: str, delay_tolerance: float, activity: float) -> Block:
    """One bit over ``length`` m of repeated wire (per-bit Block; latency and energy of one transfer).

    Repeater spacing from :func:`repeated_wire` (eq. 4.1 with the tolerance): n = max(1,
    ceil(L / spacing)) equal segments, each a repeater sized by :func:`driver_size` driving its
    wire segment (pi model) and the next repeater; Horowitz delay per segment. Energy:
    ``activity`` x the segment capacitances x Vdd^2. Area and leakage: the repeaters (the wire
    runs on the metal layer above, as in NeuroSim HTree.cpp and :class:`RepeatedWire`).
    """
    if length <= 0:
        return Block()
    design = repeated_wire(tech, layer, delay_tolerance)
    wire = tech.wire_global if layer == "global" else tech.wire_local
    n = max(1, math.ceil(length / design.segment_length - 1e-9))
    seg = length / n
    size = driver_size(tech, wire.r * seg, wire.c * seg, delay_tolerance)
    w_n = size * min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    c_in = gate_cap(tech, w_n + w_p)
    c_self = drain_cap(tech, w_n + w_p)
    r_drive = on_resistance(tech, w_n)
    tau = r_drive * c_self + pi_wire_delay(r_drive, wire.r * seg, wire.c * seg, c_in)
    t_seg, _ = horowitz(tau, transconductance_beta(tech), math.inf)
    repeaters = n * gate_area(tech, "inv", 1, w_n, w_p).area
    return Block(
        area=repeaters,
        leakage=n * leakage_power(tech, w_n, w_p),
        latency=n * t_seg,
        energy=n * switching_energy(c_self + wire.c * seg + c_in, tech.vdd, activity),
    )


@attrs.frozen
class _Link(Component):
    """Fields shared by the H-tree and the bus."""

    group: ClassVar[str] = "interconnect"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    children: int = int_field(1, 1 << 20, 4, "leaf units served (injected)")
    child_width: float | None = optional_quantity("m", "width of one leaf unit (injected)")
    child_height: float | None = optional_quantity("m", "height of one leaf unit (injected)")
    width: int = attrs.field(default=128, validator=int_range(1, 1 << 16),
                             metadata={"doc": "main bus width (bits per flit)", "unit": "bit"})
    layer: str = attrs.field(default="global", validator=one_of("global", "local"),
                             metadata={"doc": "metal layer: global | local"})
    delay_tolerance: float = quantity("1", default=DELAY_TOLERANCE, validator=non_negative,
                                      doc="delay sacrificed to save repeater energy (NeuroSim BusDelayTolerance)")
    activity: float = quantity("1", default=0.5, validator=non_negative,
                               doc="probability a bit toggles per transfer")

    def __attrs_post_init__(self) -> None:
        if not self.child_width or not self.child_height:
            raise CimgraphError(f"{self.kind}: needs child_width and child_height (m), injected by the netlist "
                                f"builder or given explicitly")
        if self.activity > 1:
            raise CimgraphError(f"{self.kind}: activity must be in [0, 1], got {self.activity!r}")

    @abc.abstractmethod
    def runs(self) -> list[float]:
        """Wire run lengths (m) from the root to a leaf."""

    def _path(self) -> Block:
        total = Block()
        for length in self.runs():
            total = total.then(wire_run(self.tech, length, self.layer, self.delay_tolerance, self.activity))
        return total

    def area(self) -> float:
        return self.width * self._path().area

    def leakage(self) -> float:
        return self.width * self._path().leakage

    def transfer(self) -> Cost:
        path = self._path()
        return Cost(path.latency, self.width * path.energy)


@attrs.frozen
class HTree(_Link):
    """H-tree from the edge of a grid of ``children`` units to each unit (seed 001 sec. 4.1, Fig. 5).

    levels = ceil(log2 children); the units sit in a 2^ceil(levels/2) x 2^floor(levels/2) grid.
    Stages alternate horizontal / vertical from the root; each is a quarter of the current
    region's extent in its direction, which then halves, so lengths halve every two stages and
    the wire length per bit halves each stage pair. The main bus runs from the region's edge to the
    root (half the region width). Stage bus widths sum to ``width``, so the area of a stage is
    width x its length; transfer() moves one ``width``-bit flit root to leaf: latency = sum of the
    stage delays, energy = width x the per-bit energy along the path. Valid for any children >= 1.
    """

    kind: ClassVar[str] = "link.htree"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4.1, eq. 4.1-4.2, Fig. 5 (seed 001); NeuroSim HTree.cpp"

    @property
    def levels(self) -> int:
        return math.ceil(math.log2(self.children)) if self.children > 1 else 0

    def runs(self) -> list[float]:
        """Wire length of every stage on the root-to-leaf path, the main bus first (m)."""
        nx = 2 ** math.ceil(self.levels / 2)
        ny = 2 ** (self.levels // 2)
        w, h = nx * self.child_width, ny * self.child_height
        runs = [w / 2]
        for stage in range(self.levels):
            if stage % 2 == 0:
                runs.append(w / 4)
                w /= 2
            else:
                runs.append(h / 4)
                h /= 2
        return runs


@attrs.frozen
class Bus(_Link):
    """A shared bus along a row of ``children`` units (NeuroSim Bus.cpp): one run of
    children x child_width from the source at one end past every unit. transfer() = one
    ``width``-bit flit to the farthest unit. Valid for any children >= 1."""

    kind: ClassVar[str] = "link.bus"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4.1 (seed 001); NeuroSim Bus.cpp"

    def runs(self) -> list[float]:
        return [self.children * self.child_width]


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (HTree, Bus):
        registry.add_component(cls)
