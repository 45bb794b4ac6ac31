"""cimgraph plugin: a non-volatile capacitive memory cell (``nvcap.crossbar``) and its
charge-domain subarray (``array.nvcap``).

Found through the entry point ``[project.entry-points.cimgraph] nvcap``.
"""
from __future__ import annotations

from cimgraph.hookspecs import hookimpl

from .array import NvCapArray
from .cells import nvcap_cells

__version__ = "0.1.0"
__all__ = ["NvCapArray", "nvcap_cells"]


@hookimpl
def cimgraph_register_memory_cells(registry):
    for cell in nvcap_cells():
        registry.add_memory_cell(cell)


@hookimpl
def cimgraph_register_components(registry):
    registry.add_component(NvCapArray)
