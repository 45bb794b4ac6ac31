"""The plugin's report section: one row per ``adc.sar`` node of an evaluated chip.

Returned through the ``cimgraph_report_sections(result)`` hook as a ``cimgraph.report.Section``:
cells are raw SI values, the column units tell the renderer how to show them.
"""
from __future__ import annotations

from typing import Any, Iterator

import attrs

from .model import SarADC

TITLE = "SAR ADC (cimgraph-sar-adc)"
COLUMNS = ("node", "bits", "ADCs on chip", "unit cap", "DAC cap / ADC", "conversion time",
           "energy / conversion", "Walden FoM (per step)", "area (chip)", "energy / image", "share of dynamic energy")
UNITS = ("", "", "", "F", "F", "s", "J", "J", "m^2", "J", "")


def _nodes(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield tree
    for child in tree.get("children", ()):
        yield from _nodes(child)


def _model(result: Any, fields: dict[str, Any]) -> SarADC | None:
    """Rebuild the model from the result's netlist record (pure; None if it cannot be rebuilt)."""
    from cimgraph.plugins import default_registry

    try:
        tech = default_registry().technology(result.technology)
        names = {a.name for a in attrs.fields(SarADC)}
        known = {name: value for name, value in fields.items() if name in names}
        return SarADC(tech=tech, **known)
    except Exception:
        return None


def sar_rows(result: Any) -> list[list[Any]]:
    """Rows (SI values, units in ``UNITS``) for every adc.sar component of ``result`` (a Result)."""
    fields_by_path = {node["path"]: node.get("fields", {})
                      for node in _nodes(getattr(result, "netlist", {}).get("hierarchy", {}))
                      if node.get("kind") == SarADC.kind}
    total = getattr(result, "dynamic_energy", 0.0) or 0.0
    rows = []
    for comp in getattr(result, "components", ()):
        if comp.kind != SarADC.kind:
            continue
        energy = sum(layer.energy_by_component.get(comp.path, 0.0) for layer in result.layers)
        model = _model(result, fields_by_path.get(comp.path, {}))
        per_adc: list[Any] = ["-"] * 6
        adcs: Any = "-"
        if model is not None:
            adcs = comp.instances * model.adcs
            per_adc = [model.bits, model.unit_capacitance(), model.dac_capacitance(), model.conversion_time(),
                       model.conversion_energy(), model.walden_fom()]
        share = f"{100 * energy / total:.1f} %" if total > 0 else "-"
        rows.append([comp.path, per_adc[0], adcs, *per_adc[1:], comp.area, energy, share])
    return rows


def sar_section(result: Any) -> Any:
    """The section for ``result``, or None when the chip has no SAR ADC."""
    rows = sar_rows(result)
    if not rows:
        return None
    from cimgraph.report import Section

    note = ("Per-ADC figures rebuilt from the netlist fields; the Walden figure of merit E / 2^bits compares "
            "with the SAR designs of the Murmann ADC survey (about 0.1 fJ to 1 pJ per step).")
    return Section(TITLE, COLUMNS, rows, note=note, units=UNITS, source=SarADC.source)
