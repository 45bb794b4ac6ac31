"""Report sections of a hybrid chip (a plugin of the ``cimgraph_report_sections`` hook, registered built-in):
the tile designs used (ACIM / DCIM tiles, function units) and the per-image cost split by layer kind."""
from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


def design_rows(result: Any) -> list[list[Any]]:
    return [[d["design"], d["type"], d["array"], d["cell"], d["tiles"],
             "x".join(map(str, d["pe_grid"])) or "-", "x".join(map(str, d["subarray_grid"])) or "-",
             ", ".join(d["runs"]), d["layers"], d["area"]] for d in result.designs]


def kind_rows(result: Any) -> list[list[Any]]:
    from ..schedule.hybrid import kind_totals

    return [[kind, count, macs, latency, energy] for kind, count, macs, latency, energy in kind_totals(result)]


@hookimpl
def cimgraph_report_sections(result: Any) -> list[Any] | None:
    from .data import Section

    if not getattr(result, "designs", None):
        return None
    return [
        Section("Tile designs", ("design", "type", "array", "cell", "tiles", "PEs / tile", "subarrays / PE",
                                 "runs", "layers", "area"), design_rows(result),
                units=("", "", "", "", "", "", "", "", "", "m^2"),
                note="ACIM tiles hold static weights, DCIM tiles the attention operands written per image, "
                     "function units compute softmax / layer norm / GELU (docs/transformers.md).",
                source="cimgraph.mapping.hybrid, cimgraph.schedule.hybrid"),
        Section("Cost by layer kind", ("layer kind", "layers", "MACs", "latency (sum)", "dynamic energy"),
                kind_rows(result), units=("", "", "", "s", "J"),
                note="Per image; matmul rows include the dynamic operand write and the data moved between "
                     "tile designs."),
    ]
