"""Load a netlist file: safe YAML -> validated spec -> ChipGraph, every problem reported at once."""
from __future__ import annotations

import os
from typing import Any

import yaml

from ..errors import NetlistError, Problem
from ..plugins import default_registry
from ..registry import Registry
from .graph import ChipGraph, build_chip
from .schema import validate


def load_netlist(source: str | os.PathLike | dict, registry: Registry | None = None,
                 file: str | None = None) -> ChipGraph:
    """Load a chip from a YAML file path (or an already-parsed mapping) into a ChipGraph.

    ``file`` names where a mapping came from, for error messages (default ``<netlist>``).

    Raises NetlistError listing every problem as ``file: $.key.path: what was expected``.
    """
    registry = registry or default_registry()
    if isinstance(source, dict):
        raw: Any = source
        file = file or "<netlist>"
    else:
        file = os.fspath(source)
        raw = read_yaml(file)
    spec, problems = validate(raw, file)
    if problems or spec is None:
        raise NetlistError(problems, file)
    return build_chip(spec, registry)


def read_yaml(file: str) -> Any:
    """Parse a YAML file (safe loader); NetlistError naming the file and the line of any problem."""
    try:
        with open(file, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise NetlistError([Problem("$", f"cannot read the file: {exc.strerror}")], file) from None
    except UnicodeDecodeError as exc:
        raise NetlistError([Problem("$", f"not a UTF-8 text file ({exc.reason} at byte {exc.start})")], file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        raise NetlistError([Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")], file) from None
