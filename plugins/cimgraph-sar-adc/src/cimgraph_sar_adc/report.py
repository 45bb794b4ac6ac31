"""The plugin's report section: one row per ``adc.sar`` node of an evaluated chip.

Returned through the ``cimgraph_report_sections(result)`` hook. Until ``cimgraph.report.Section``
exists the section is a plain dict ``{"title", "columns", "rows", "source"}``; when the class is
importable it is built from the same data.
"""
from __future__ import annotations

from typing import Any, Iterator

from cimgraph.units import format_si

from .model import SarADC

TITLE = "SAR ADC (cimgraph-sar-adc)"
COLUMNS = ("node", "bits", "ADCs on chip", "unit cap", "DAC cap / ADC", "conversion time",
           "energy / conversion", "Walden FoM", "area (chip)", "energy / image", "share of chip energy")


def _nodes(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield tree
    for child in tree.get("children", ()):
        yield from _nodes(child)


def _model(result: Any, fields: dict[str, Any]) -> SarADC | None:
    """Rebuild the model from the result's netlist record (pure; None if it cannot be rebuilt)."""
    from cimgraph.plugins import default_registry

    try:
        tech = default_registry().technology(result.technology)
        known = {name: value for name, value in fields.items() if name in SarADC.__attrs_attrs__.__dict__
                 or name in {a.name for a in SarADC.__attrs_attrs__}}
        return SarADC(tech=tech, **known)
    except Exception:
        return None


def sar_rows(result: Any) -> list[list[str]]:
    """Formatted rows for every adc.sar component of ``result`` (a cimgraph schedule Result)."""
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
        per_adc = ["-"] * 6
        adcs = "-"
        if model is not None:
            adcs = str(comp.instances * model.adcs)
            per_adc = [str(model.bits), format_si(model.unit_capacitance(), "F"),
                       format_si(model.dac_capacitance(), "F"), format_si(model.conversion_time(), "s"),
                       format_si(model.conversion_energy(), "J"), format_si(model.walden_fom(), "J") + "/step"]
        share = f"{100 * energy / total:.1f} %" if total > 0 else "-"
        rows.append([comp.path, per_adc[0], adcs, *per_adc[1:], format_si(comp.area, "m^2"),
                     format_si(energy, "J"), share])
    return rows


def sar_section(result: Any) -> Any:
    """The section for ``result``, or None when the chip has no SAR ADC."""
    rows = sar_rows(result)
    if not rows:
        return None
    data = {"title": TITLE, "columns": list(COLUMNS), "rows": rows, "source": SarADC.source}
    try:
        from cimgraph.report import Section  # type: ignore[attr-defined]
    except ImportError:
        return data
    try:
        return Section(**data)
    except TypeError:
        return data
