"""Interconnect between hierarchy levels: the H-tree and the shared bus, with repeated wires.

Sources: DNN+NeuroSim V2 manual sec. 4.1 (seed 001): repeaters of optimal spacing and size
(eq. 4.1, 4.2) relaxed by a delay tolerance (globalBusDelayTolerance / localBusDelayTolerance, 0.1
in NeuroSim Param.cpp), and the H-tree of Fig. 5 whose wire length halves at every stage from the
main bus to the units while the sum of bus widths per stage equals the main bus width;
NeuroSim HTree.cpp / Bus.cpp (the main bus from the region's edge to the root is counted) and
XYBus.cpp (V1.4's chip-level X-Y bus, Param.cpp globalBusType false); NeuroTorch manual sec. 4
(seed 000): Elmore / pi-model wire delay. Data energy: a bit that toggles between consecutive flits
charges or discharges its wire once; rising and falling toggles are equally likely, and only a rising
one draws C V^2 from the supply, so a flit costs toggle x 1/2 C V^2 per bit (NeuroSim V1.4
Param.cpp inputtoggle / outputtoggle on 1/2 C V^2, HTree.cpp / XYBus.cpp CalculatePower).
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
from .buffers import HOLDS
from .circuit import (balanced_pmos_width, drain_cap, gate_area, gate_cap, horowitz, leakage_power,
                      min_width, on_resistance, pi_wire_delay, repeated_wire, switching_energy)
from .digital import Block, int_field, transconductance_beta

# NeuroSim Param.cpp globalBusDelayTolerance = localBusDelayTolerance = 0.1.
DELAY_TOLERANCE = 0.1
# Random data: a bit differs from the previous flit's with probability 1/2.
RANDOM_TOGGLE = 0.5


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
    toggle: float = quantity("1", default=RANDOM_TOGGLE, validator=non_negative,
                             doc="probability a bit differs from the previous flit's (when the scheduler "
                                 "passes none for the data moved)")
    carries: str = attrs.field(default="both", validator=one_of(*HOLDS),
                               metadata={"doc": "data it moves: both | input (activations going down) | output "
                                                "(results going up), as NeuroSim's PE input and output buses"})

    def __attrs_post_init__(self) -> None:
        if not self.child_width or not self.child_height:
            raise CimgraphError(f"{self.kind}: needs child_width and child_height (m), injected by the netlist "
                                f"builder or given explicitly")
        if self.toggle > 1:
            raise CimgraphError(f"{self.kind}: toggle must be in [0, 1], got {self.toggle!r}")

    @abc.abstractmethod
    def runs(self) -> list[float]:
        """Wire run lengths (m) from the root to a leaf."""

    def _path(self, runs: list[float] | None = None, toggle: float | None = None) -> Block:
        """Per-bit Block along ``runs`` (default: root to leaf); energy at ``toggle`` / 2 x C V^2."""
        toggle = self.toggle if toggle is None else toggle
        if not 0 <= toggle <= 1:
            raise CimgraphError(f"{self.kind}: toggle must be in [0, 1], got {toggle!r}")
        total = Block()
        for length in self.runs() if runs is None else runs:
            total = total.then(wire_run(self.tech, length, self.layer, self.delay_tolerance, toggle / 2))
        return total

    def area(self) -> float:
        return self.width * self._path().area

    def leakage(self) -> float:
        return self.width * self._path().leakage

    def transfer(self, toggle: float | None = None) -> Cost:
        """One ``width``-bit flit from the root to a leaf; ``toggle``: of the data moved (default the field)."""
        path = self._path(toggle=toggle)
        return Cost(path.latency, self.width * path.energy)


@attrs.frozen
class HTree(_Link):
    """H-tree from the edge of a grid of ``children`` units to each unit (seed 001 sec. 4.1, Fig. 5).

    levels = ceil(log2 children); the units sit in a grid of ny = min(2^floor(levels/2),
    ceil(sqrt children)) rows and ceil(children / ny) columns (2^ceil(levels/2) x 2^floor(levels/2) for
    a power of two; 3 x 3 for 9 PEs, as NeuroSim Tile.cpp lays out its novel-mapping PEs).
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
        return tree_levels(self.children)

    def runs(self) -> list[float]:
        """Wire length of every stage on the root-to-leaf path, the main bus first (m)."""
        ny, nx = htree_grid(self.children)
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


def tree_levels(units: int) -> int:
    """Stages of an H-tree to ``units`` leaves: ceil(log2 units)."""
    return math.ceil(math.log2(units)) if units > 1 else 0


def htree_grid(units: int) -> tuple[int, int]:
    """(rows, columns) of the grid the H-tree lays ``units`` out in: rows = min(2^floor(levels / 2),
    ceil(sqrt units)), columns = ceil(units / rows), levels = :func:`tree_levels` (4 x 4 for 16, 3 x 3 for 9)."""
    levels = tree_levels(units)
    rows = min(2 ** (levels // 2), math.ceil(math.sqrt(units)))
    return rows, math.ceil(units / rows)


@attrs.frozen
class Bus(_Link):
    """Shared bus past ``children`` units (NeuroSim Bus.cpp). transfer() = one ``width``-bit flit to
    the farthest unit of one bus; valid for any children >= 1.

    ``along``: ``line`` (default), one run of children x child_width from the source at one end past
    every unit; ``rows`` / ``columns``, the units in the H-tree's grid (:func:`htree_grid`) and one bus
    per grid row (NeuroSim HORIZONTAL: child_width x (columns - 1)) or per grid column (VERTICAL:
    child_height x (rows - 1)), as NeuroSim V1.4 ProcessingUnit.cpp's busInputNM and busOutputNM over
    the PE's numSubArrayRow x numSubArrayCol subarrays; a grid of one unit per row (column) has no wire.
    Area and leakage: the repeaters of every parallel bus, each ``width`` bits.
    """

    kind: ClassVar[str] = "link.bus"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 4.1 (seed 001); NeuroSim V1.4 Bus.cpp, "
                             "ProcessingUnit.cpp (busInputNM, busOutputNM)")

    along: str = attrs.field(default="line", validator=one_of("line", "rows", "columns"),
                             metadata={"doc": "line (one run past all units) | rows (one bus per grid row) | "
                                              "columns (one bus per grid column)"})

    @property
    def buses(self) -> int:
        """Parallel buses: 1 for a line, else one per grid row or column."""
        rows, columns = htree_grid(self.children)
        return {"line": 1, "rows": rows, "columns": columns}[self.along]

    def runs(self) -> list[float]:
        rows, columns = htree_grid(self.children)
        if self.along == "rows":
            return [self.child_width * (columns - 1)]
        if self.along == "columns":
            return [self.child_height * (rows - 1)]
        return [self.children * self.child_width]

    def area(self) -> float:
        return self.buses * super().area()

    def leakage(self) -> float:
        return self.buses * super().leakage()


def grid_shape(units: int) -> tuple[int, int]:
    """(rows, columns) of the most nearly square grid holding ``units``: rows = ceil(sqrt(units)),
    columns = ceil(units / rows) (NeuroSim Chip.cpp numTileRow / numTileCol)."""
    rows = max(1, math.ceil(math.sqrt(units)))
    return rows, max(1, math.ceil(units / rows))


@attrs.frozen
class XYBus(_Link):
    """Chip-level X-Y (mesh) bus: tiles in a grid, data routed X then Y to the tiles that need it.

    Layout (NeuroSim V1.4 Chip.cpp / XYBus.cpp, Param.cpp globalBusType false): the ``children``
    tiles sit row-major in a rows x columns grid (:func:`grid_shape`); the global buffer runs along
    the grid's left edge with its port at mid-height; one X bus per tile row and one Y bus along the
    buffer, each ``width`` bits of repeated wire (eq. 4.1-4.2 with the delay tolerance). A flit for a
    layer placed on tiles ``first`` .. ``first + count - 1`` (the layer order, as NeuroSim's
    tileLocaEachLayer) travels the Manhattan distance from the port to each of them: its energy and
    latency are those of the mean of those distances, taken as one repeated run (valid where the
    run is long against a repeater segment). NeuroSim instead charges every layer half the grid's
    width (inputs) or height (outputs); docs/fidelity.md compares the two. area() / leakage(): the
    repeaters of the Y bus and of every row's X bus. Valid for any children >= 1.
    """

    kind: ClassVar[str] = "link.xybus"
    source: ClassVar[str] = ("DNN+NeuroSim V1.4 Chip.cpp / XYBus.cpp (globalBusType false); repeated wires of "
                             "DNN+NeuroSim V2 manual sec. 4.1, eq. 4.1-4.2 (seed 001)")

    @property
    def grid(self) -> tuple[int, int]:
        return grid_shape(self.children)

    def runs(self) -> list[float]:
        """Wires of the whole bus: the Y bus along the grid, then one X bus per tile row (m)."""
        rows, columns = self.grid
        return [rows * self.child_height] + [columns * self.child_width] * rows

    def distance(self, first: int = 0, count: int | None = None) -> float:
        """Mean X-Y route length (m) from the buffer port to tiles first .. first + count - 1."""
        rows, columns = self.grid
        count = self.children - first if count is None else count
        if not (0 <= first and count >= 1 and first + count <= rows * columns):
            raise CimgraphError(f"{self.kind}: tiles {first}..{first + count - 1} are not on the "
                                f"{rows} x {columns} grid of {self.children} tiles")
        tiles = range(first, first + count)
        port = rows * self.child_height / 2
        return sum((t % columns + 0.5) * self.child_width + abs((t // columns + 0.5) * self.child_height - port)
                   for t in tiles) / count

    def area(self) -> float:
        return self.width * sum(self._path([run]).area for run in self.runs())

    def leakage(self) -> float:
        return self.width * sum(self._path([run]).leakage for run in self.runs())

    def transfer(self, toggle: float | None = None, first: int = 0, count: int | None = None) -> Cost:
        """One ``width``-bit flit to the layer on tiles ``first`` .. (default: the mean over all tiles)."""
        path = self._path([self.distance(first, count)], toggle)
        return Cost(path.latency, self.width * path.energy)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (HTree, Bus, XYBus):
        registry.add_component(cls)
