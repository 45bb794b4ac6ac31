"""The placed chip area counted DNN+NeuroSim V1.4's way, term by term: one placed subarray's blocks
(:func:`subarray_box_rows`) and the placed area from cimgraph's blocks towards NeuroSim's
(:func:`placed_area_account`), with NeuroSim's own sizes of its MLSA bank, level shifter and WL switch matrix.
"""
from __future__ import annotations

from neurosim_reference import REFERENCE, parts


def subarray_box_rows(chip) -> list[tuple[str, str, float, float]]:
    """(block, array side it lines, area m^2, extent m) of one placed subarray of ``chip`` (schedule/placed.py,
    NeuroSim SubArray.cpp CalculateArea's rule), the array first; the corner block's extent is 0."""
    from cimgraph.schedule.placed import placement_side

    level = chip.levels["subarray"]
    array = level.array.model
    width, height = float(array.width()), float(array.height())
    out = [(f"array ({array.kind}, {width * 1e6:.1f} um wide)", "-", level.array.area, height)]
    for comp in level.components:
        area, side = comp.area * comp.spec.count, placement_side(comp.model)
        extent = area / height if side == "rows" else area / width if side == "columns" else 0.0
        out.append((f"{comp.name} ({comp.spec.kind})", side, area, extent))
    return out


NEUROSIM_RRAM_CELL_F = (4, 12)   # issue 18: NeuroSim V1.4's 1T1R cell, height x width in F (config A)


def neurosim_mlsa_area(chip) -> float:
    """NeuroSim V1.4's MLSA bank area (m^2) for one subarray of ``chip``, from A's reported ADC area.

    MultilevelSenseAmp.cpp CalculateArea: 9 minimum NMOS per comparator x (levelOutput - 1) x ADCs (independent of
    the cell) plus (levelOutput - 1) x ADCs / dumcolshared reference columns of the array's own cells
    (param->arrayheight x arraywidthunit; Param.cpp dumcolshared = levelOutput): 15.5 columns for 16 5-bit MLSAs.
    A's 7.95 mm^2 over its 9,485 subarrays (3.61 mm^2 of 128 x 128 cells of 4F x 12F) is that bank (with its
    encoder) on 11.3 um x 0.26 um columns; the same bank on ``chip``'s columns differs by their area only.
    """
    ref = REFERENCE["A"]["area_by"]
    f = chip.tech.feature_size
    array = chip.subarray
    h_a, w_a = NEUROSIM_RRAM_CELL_F
    subarrays_a = ref["array"] / (array.rows * array.columns * h_a * w_a * f * f)
    adc = next(c.model for c in chip.levels["subarray"].components if c.spec.kind.startswith("adc."))
    levels = 2 ** adc.bits
    columns = (levels - 1) * adc.count / levels
    column_a = array.rows * h_a * f * w_a * f
    return ref["ADC"] / subarrays_a + columns * (array.height() * array.cell_width - column_a)


def neurosim_level_shifter_area(tech) -> float:
    """One NeuroSim V1.4 level shifter (m^2), LevelShifter.cpp CalculateArea with validated = true: its input
    inverter (N 15x, P 20x), latch side (32x, 10x) and output (64x, 82x) of the minimum NMOS and pnSizeRatio PMOS, each
    laid out with widths x 2 in a cell 2.5 x 28F high; the latch (twice) and output are IO devices, their layout
    widths x 2.5 (L = 270 nm); the whole x alpha = 1.44 for wiring. cimgraph's gate-area model (NeuroSim's
    CalculateGateArea) lays out each gate."""
    from cimgraph.components.circuit import CELL_HEIGHT, balanced_pmos_width, gate_area, min_width

    w_n = min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    height = CELL_HEIGHT * tech.feature_size * 2.5
    low, latch, high = (gate_area(tech, "inv", 1, 2 * n * w_n, 2 * p * w_p, height).width
                        for n, p in ((15, 20), (32, 10), (64, 82)))
    return height * (low + (2 * latch + high) * 2.5) * 1.44


def neurosim_wl_switch_area(chip) -> float:
    """NeuroSim V1.4's WL switch matrix of a parallel 1T1R array (m^2), NewSwitchMatrix.cpp: per row four minimum
    TGs (WL and BL, each to its voltage or ground) and the input DFF, no IR-drop sizing and no control chain; its
    TGs fill the array height in released cells. cimgraph's minimum gate and DFF lay it out."""
    from cimgraph.components.circuit import cell_height
    from cimgraph.components.digital import Gate, dff_width

    tech = chip.tech
    return chip.subarray.rows * (4 * Gate(tech).width + dff_width(tech)) * cell_height(tech)


def _box_state(chip) -> dict:
    """One subarray's box inputs (schedule/placed.py): array width, height and area, and its blocks."""
    from cimgraph.schedule.placed import subarray_blocks

    array = chip.subarray
    return {"width": float(array.width()), "height": float(array.height()),
            "area": chip.levels["subarray"].array.area, "blocks": subarray_blocks(chip)}


def _replace(chip, state, kind: str, area_of) -> None:
    """Set the area of ``chip``'s subarray blocks whose kind starts with ``kind`` to ``area_of(component)`` (None:
    keep it), keeping their side."""
    for comp in chip.levels["subarray"].components:
        if comp.spec.kind.startswith(kind):
            area = area_of(comp)
            if area is not None:
                state["blocks"][comp.name] = (area, state["blocks"][comp.name][1])


def _neurosim_array_and_mlsa(chip, state) -> None:
    """NeuroSim's array (SubArray.cpp lengthRow = numCol x cell width: no dummy columns, its reference columns are
    in its MLSA) and its MLSA bank (:func:`neurosim_mlsa_area`) in place of cimgraph's ADC."""
    array = chip.subarray
    state["width"] = array.columns * array.cell_width
    state["area"] = state["width"] * state["height"]
    _replace(chip, state, "adc.", lambda comp: neurosim_mlsa_area(chip))


def _neurosim_level_shifters(chip, state) -> None:
    """NeuroSim's level shifters (:func:`neurosim_level_shifter_area`, one per line) in place of cimgraph's
    level-shifting write drivers; SubArray.cpp divides a bank's area by the edge it lines (no whole-cell stacks)."""
    _replace(chip, state, "driver.write", lambda comp: comp.model.lines * neurosim_level_shifter_area(chip.tech)
             if comp.model.shifts else None)


def _neurosim_wl_switch(chip, state) -> None:
    """NeuroSim's WL switch matrix (:func:`neurosim_wl_switch_area`) in place of cimgraph's switch.wl (1T1R)."""
    _replace(chip, state, "switch.wl", lambda comp: neurosim_wl_switch_area(chip))


def _shifts(chip) -> bool:
    """``chip``'s subarray has level-shifting write drivers (an eNVM cell written above Vdd)."""
    return any(c.spec.kind == "driver.write" and c.model.shifts for c in chip.levels["subarray"].components)


def placed_area_account(mapping, result) -> list[tuple[str, float, float]]:
    """The placed chip area (m^2) from cimgraph's towards DNN+NeuroSim V1.4's, one term at a time: (step, placed
    area, empty box area over all subarrays). Every step replaces one of cimgraph's blocks by NeuroSim's size where
    NeuroSim's own figures or formulas give it, and re-boxes every subarray of every tile design with the same rule.

    The first entry is NeuroSim's own box rule (SubArray.cpp CalculateArea, conventionalParallel; Tile.cpp and
    Chip.cpp sum the boxes with no further bounding box) applied to cimgraph's blocks (schedule/placed.py). Then:
    NeuroSim's array and MLSA bank (from A's reported ADC area; on B's cell its reference columns grow); for a
    cell written above Vdd its level shifters, for a 1T1R array its WL switch matrix (A), computed with its formulas;
    last its interconnect area, which counts the bus wires (HTree.cpp, XYBus.cpp: bus width x repeater size /
    treeFoldedRatio along every stage) where cimgraph counts the repeaters only: A's own reported 26.8 mm^2, for B
    an upper bound (B's subarrays, PEs and tiles, the trees' units, are smaller).
    """
    from cimgraph.schedule.placed import box_of

    chips = [(p.chip, p.chip.instances("chip/tile/pe/subarray")) for p in parts(mapping)]
    states = [_box_state(chip) for chip, _ in chips]

    def boxes() -> tuple[float, float]:
        out = [(n, box_of(s["width"], s["height"], s["area"], s["blocks"].values()))
               for (_, n), s in zip(chips, states)]
        return sum(n * b.area for n, b in out), sum(n * (b.area - b.parts_area) for n, b in out)

    base, empty = boxes()
    steps = [("cimgraph: NeuroSim's box rule on cimgraph's blocks", result.placed_area, empty)]
    outside = [0.0]   # area changes outside the subarray boxes

    def step(label: str, change=None, elsewhere: float = 0.0) -> None:
        if change is not None:
            for (chip, _), state in zip(chips, states):
                change(chip, state)
        outside[0] += elsewhere
        total, empty = boxes()
        steps.append((label, result.placed_area + total - base + outside[0], empty))

    chip = mapping.chip
    step(f"and NeuroSim's array (no dummy columns) and MLSA banks ({neurosim_mlsa_area(chip) * 1e12:.0f} um^2 per "
         "subarray, 15.5 reference columns)", _neurosim_array_and_mlsa)
    if _shifts(chip):
        step(f"and NeuroSim's level shifters ({neurosim_level_shifter_area(chip.tech) * 1e12:.1f} um^2 each, "
             "LevelShifter.cpp; banks cut to the edge)", _neurosim_level_shifters)
    if chip.cell.access == "1t1r":   # NeuroSim's wlNewSwitchMatrix (SRAM and crossbar arrays use others)
        step(f"and NeuroSim's WL switch matrix ({neurosim_wl_switch_area(chip) * 1e12:.0f} um^2: 4 minimum TGs and "
             "a DFF per row)", _neurosim_wl_switch)
    ref = REFERENCE["A"]["area_by"]["interconnect"]
    which = "A's (an upper bound)" if chip.cell.family == "sram" else "A's reported"
    step(f"and NeuroSim's wire-counted interconnect at {which} {ref * 1e6:.1f} mm^2",
         elsewhere=ref - result.area_by_group["interconnect"])
    return steps
