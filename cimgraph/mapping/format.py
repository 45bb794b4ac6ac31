"""Text floorplan table of a Mapping (what ``cimgraph map`` prints)."""
from __future__ import annotations

from typing import Any


def format_mapping(mapping: Any) -> str:
    """A fixed-width table: per layer its scheme, weight matrix, tiles, PEs and subarrays used, copies,
    input vectors per copy and memory utilization; then the chip totals. A HybridMapping prints one table
    per tile design and the layers on function units."""
    if hasattr(mapping, "parts"):
        tables = [f"[design {name}]\n{format_mapping(part)}" for name, part in mapping.parts.items()]
        units = sorted(set(mapping.functional.values()))
        tables += [f"[{unit}] runs " + ", ".join(n for n, u in mapping.functional.items() if u == unit)
                   for unit in units]
        return "\n\n".join(tables)
    pr, pc = mapping.pe_grid
    sr, sc = mapping.subarray_grid
    counts = mapping.chip.counts
    array = mapping.chip.subarray
    head = [f"network {mapping.network.name} on {mapping.chip.spec.name}: {mapping.method} mapping",
            f"subarray {array.rows}x{array.columns} cells, {mapping.chip.cells_per_weight} cell(s) per weight; "
            f"PE = {sr}x{sc} subarrays; tile = {pr}x{pc} PEs; chip = {counts['tiles']} tiles "
            f"({mapping.tiles_used} used)"]
    columns = ("layer", "scheme", "matrix", "tiles", "PEs/tile", "subarr/PE", "copies", "vectors", "util")
    rows = []
    for p in mapping.layers:
        rows.append((p.layer.name, p.scheme, f"{p.used_rows}x{p.used_columns}", str(p.tiles), str(p.pes),
                     str(p.subarrays), str(p.duplication), str(p.input_vectors), f"{100 * p.utilization:.2f}%"))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells):
        return "  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))

    body = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in rows]
    total = f"total: {mapping.tiles_used} tiles, memory utilization {100 * mapping.utilization:.2f}%"
    return "\n".join(head + [""] + body + ["", total])
