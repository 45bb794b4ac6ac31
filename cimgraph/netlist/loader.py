"""Load a netlist file: safe YAML -> validated spec -> ChipGraph, every problem reported at once."""
from __future__ import annotations

import os
from typing import Any

from .. import safe_yaml
from ..errors import InputError, NetlistError, Problem
from ..plugins import default_registry
from ..registry import Registry
from .graph import ChipGraph, build_chip
from .schema import validate


def read_netlist_file(file: str) -> Any:
    """The raw mapping of a netlist file through the bounded safe YAML loader (NetlistError if not)."""
    try:
        return safe_yaml.load_file(file)
    except InputError as exc:
        raise NetlistError([Problem(exc.where, exc.message)], file) from None


def load_netlist(source: str | os.PathLike | dict, registry: Registry | None = None,
                 file: str | None = None) -> ChipGraph:
    """Load a chip from a YAML file path (or an already-parsed mapping) into a ChipGraph.

    ``file`` names where a mapping came from, for error messages (default ``<netlist>``).

    Raises NetlistError listing every problem as ``file: $.key.path: what was expected``.
    """
    if isinstance(source, dict):
        raw: Any = source
        file = file or "<netlist>"
    else:
        file = os.fspath(source)
        raw = read_netlist_file(file)
    spec, problems = validate(raw, file)
    if problems or spec is None:
        raise NetlistError(problems, file)
    return build_chip(spec, registry or default_registry())  # plugins load only for a well-formed file
