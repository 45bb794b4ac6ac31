"""Test helpers: a plugin manager with an extra plugin registered (and removed after), a tiny netlist.

Usable from any test suite (the plugins' own tests too)::

    from cimgraph.testing import installed_plugin, registry_with, tiny_netlist
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterable, Iterator

from .plugins import get_plugin_manager, load_registry, register_plugin, reset_default_registry
from .registry import Registry

TINY_NETLIST: dict[str, Any] = {
    "name": "tiny-rram",
    "technology": "22nm",
    "cell": "rram.1t1r",
    "precision": {"weight": 8, "input": 8},
    "clock": "1GHz",
    "mapping": {"method": "conventional", "duplication": False},
    "chip": {
        "tiles": 2,
        "buffer": {"kind": "buffer.sram", "size": "16kB", "width": 256},
        "htree": {"kind": "link.htree", "width": 256},
        "accumulation": {"kind": "adder.tree", "copies": 8},
        "relu": {"kind": "activation.relu", "copies": 16},
        "tile": {
            "pes": 2,
            "htree": {"kind": "link.htree", "width": 256},
            "accumulation": {"kind": "adder.tree", "copies": 8},
            "pe": {
                "subarrays": 4,
                "bus": {"kind": "link.bus", "width": 256},
                "accumulation": {"kind": "adder.tree", "copies": 8},
                "subarray": {
                    "kind": "array.rram", "rows": 64, "columns": 64, "readout": "parallel",
                    "wl_decoder": {"kind": "decoder.wl"},
                    "wl_switch": {"kind": "switch.wl"},
                    "mux": {"kind": "mux.column", "share": 8},
                    "mux_decoder": {"kind": "decoder.mux", "share": 8},
                    "adc": {"kind": "adc.flash", "bits": 5, "share": 8},
                    "shift_add": {"kind": "shiftadd.bank"},
                },
            },
        },
    },
}


def tiny_netlist() -> dict[str, Any]:
    """A fresh copy of a small, valid netlist (a dict: mutate freely)."""
    return copy.deepcopy(TINY_NETLIST)


@contextlib.contextmanager
def registry_with(*plugins: Any) -> Iterator[Registry]:
    """A registry of the installed plugins plus ``plugins`` (modules or objects with hookimpls).

    The process-wide default registry is reset on entry and exit, so nothing leaks between tests.
    """
    pm = get_plugin_manager()
    for i, plugin in enumerate(plugins):  # validated like an installed plugin (a bad hook is a failure)
        register_plugin(pm, plugin, getattr(plugin, "__name__", f"test-plugin-{i}"), pm.cimgraph_failures)
    reset_default_registry()
    try:
        yield load_registry(pm)
    finally:
        for plugin in plugins:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
        reset_default_registry()


@contextlib.contextmanager
def installed_plugin(folder: str | os.PathLike, distribution: str, source: str, version: str = "0.1.0",
                     provides: Iterable[str] = ()) -> Iterator[str]:
    """Install ``source`` as a plugin distribution for the duration of a ``with`` block, without pip.

    Writes the module ``<distribution with _>.py`` and a ``*.dist-info`` folder (METADATA with the
    name and version, entry_points.txt with the ``cimgraph`` entry point and the kinds it declares in
    ``cimgraph.kinds``) into ``folder``, puts ``folder`` first on ``sys.path`` and resets the default
    registry, so cimgraph finds it exactly as an installed plugin. Yields the module name.
    """
    module = distribution.replace("-", "_").replace(".", "_")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{module}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n",
                                   encoding="utf-8")
    entry_points = f"[cimgraph]\n{module} = {module}\n"
    kinds = list(provides)
    if kinds:
        entry_points += "\n[cimgraph.kinds]\n" + "".join(f"{kind} = {module}\n" for kind in kinds)
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    reset_default_registry()
    try:
        yield module
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        reset_default_registry()
