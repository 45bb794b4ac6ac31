"""cimgraph plugin: a charge-redistribution SAR ADC (``adc.sar``) and its report section.

Installed, it is found through the entry point ``[project.entry-points.cimgraph] sar_adc``;
cimgraph calls the hooks below like those of its built-in modules.
"""
from __future__ import annotations

from cimgraph.hookspecs import hookimpl

from .model import SarADC, SarDesignError
from .report import sar_section

__version__ = "0.1.0"
__all__ = ["SarADC", "SarDesignError", "sar_section"]


@hookimpl
def cimgraph_register_components(registry):
    registry.add_component(SarADC)


@hookimpl
def cimgraph_report_sections(result):
    section = sar_section(result)
    return [section] if section is not None else None
