"""Placed subarray area: the bounding box of the array with its periphery aligned to its sides.

The periphery of a subarray is laid out as banks pitch-matched to the array edges (NeuroSim
slides, seed 002: "align area according to the synaptic array (w/ width or height)"; NeuroSim
V1.4 SubArray.cpp CalculateArea sums the heights of the blocks under the array and the widths of
the blocks beside it). A bank beside the array's rows (WL / BL switch matrices, WL decoders, row
write drivers) spans the array height, so it adds area / array height to the box width; a bank
under the columns (column mux, ADCs, shift-adders, SL switch matrix, column write drivers, sense
amplifiers) spans the array width and adds area / array width to the box height. Blocks not
pitch-matched (the mux decoder) sit in the corner the two stacks leave free; what does not fit
there grows the box. So the box is

    (W_array + sum left extents) x (H_array + sum bottom extents) + max(0, corner - left x bottom)

which is never smaller than the sum of the parts it boxes. Its empty part is what NeuroSim reports
as the subarray's unused area. cimgraph keeps both figures: the sum of component areas (what the
silicon of the blocks costs) and the placed box (what the layout occupies).
"""
from __future__ import annotations

from typing import Any, Iterable

import attrs

from ..netlist.graph import LEVEL_PATHS

SIDES = ("rows", "columns", "corner")
# Which array edge each role's bank is pitch-matched to, where the model does not say (``axis``).
ROLE_SIDES = {"adc": "columns", "mux": "columns", "shiftadd": "columns", "sense": "columns", "precharge": "columns",
              "register": "columns", "switch": "rows", "decoder": "rows", "driver": "rows"}


def placement_side(model: Any) -> str:
    """The array edge a component's bank lines: the model's ``placement_side`` if it declares one,
    else its ``axis`` (rows / columns), else its role's usual side; "corner" when none applies."""
    side = getattr(model, "placement_side", None)
    if callable(side):
        side = side()
    if side in SIDES:
        return side
    axis = getattr(model, "axis", None)
    if axis in ("rows", "columns"):
        return axis
    return ROLE_SIDES.get(type(model).kind.split(".")[0], "corner")


@attrs.frozen
class SubarrayBox:
    """One subarray's placement (m, m^2): the array, the extents of the stacks beside (``left``,
    along the rows) and under it (``bottom``), the unaligned ``corner`` area and the parts' sum."""

    array_width: float
    array_height: float
    left: float
    bottom: float
    corner: float
    parts_area: float

    @property
    def width(self) -> float:
        return self.array_width + self.left

    @property
    def height(self) -> float:
        return self.array_height + self.bottom

    @property
    def area(self) -> float:
        return self.width * self.height + max(0.0, self.corner - self.left * self.bottom)


def subarray_blocks(chip: Any) -> dict[str, tuple[float, str]]:
    """The periphery blocks of one subarray of ``chip``: name -> (area of all copies in m^2, side)."""
    return {comp.name: (comp.area * comp.spec.count, placement_side(comp.model))
            for comp in chip.levels["subarray"].components}


def box_of(array_width: float, array_height: float, array_area: float,
           blocks: Iterable[tuple[float, str]]) -> SubarrayBox:
    """The box of an array of the given size (m, m^2) with ``blocks`` (area m^2, side) aligned to its
    edges: a "rows" block adds area / array height to the width, a "columns" block area / array width
    to the height, anything else goes to the corner."""
    left = bottom = corner = 0.0
    parts = array_area
    for area, side in blocks:
        parts += area
        if side == "rows" and array_height > 0:
            left += area / array_height
        elif side == "columns" and array_width > 0:
            bottom += area / array_width
        else:
            corner += area
    return SubarrayBox(array_width, array_height, left, bottom, corner, parts)


def subarray_box(chip: Any) -> SubarrayBox:
    """Bounding box of one subarray of ``chip`` (a ChipGraph)."""
    level = chip.levels["subarray"]
    array = level.array.model
    return box_of(float(array.width()), float(array.height()), level.array.area, subarray_blocks(chip).values())


def placed_area(chip: Any) -> float:
    """Chip area (m^2) with every subarray counted as its placed box instead of its parts' sum."""
    return chip.area() + empty_box_area(chip)


def empty_box_area(chip: Any) -> float:
    """What the placed boxes of all of ``chip``'s subarrays add to the sum of their parts (m^2)."""
    box = subarray_box(chip)
    return chip.instances(LEVEL_PATHS["subarray"]) * (box.area - box.parts_area)
