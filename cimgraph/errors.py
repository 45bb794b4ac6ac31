"""The project's error types: every bad input ends in one of these, never a bare traceback."""
from __future__ import annotations

import difflib
from typing import Iterable, Sequence

import attrs


class CimgraphError(Exception):
    """Base of every error cimgraph raises on purpose (CLI exit code 2)."""


@attrs.frozen
class Problem:
    """One thing wrong in an input: where (a `$.key.path`) and what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class NetlistError(CimgraphError):
    """A netlist file failed to load; carries every problem found, each with its key path."""

    def __init__(self, problems: Sequence[Problem], file: str | None = None):
        self.problems = list(problems)
        self.file = file
        prefix = f"{file}: " if file else ""
        super().__init__("\n".join(prefix + str(p) for p in self.problems))


class UnitError(CimgraphError):
    """A value with units could not be parsed."""


class ComponentNotFound(CimgraphError):
    """A component kind, memory cell or technology that no installed plugin registers."""


class PluginError(CimgraphError):
    """A plugin broke (failed to import, raised in a hook, registered something invalid)."""


class WorkloadError(CimgraphError):
    """A network description (NetWork.csv, YAML, torch module) is malformed or unsupported."""


class MappingError(CimgraphError):
    """A network cannot be placed on the chip as described."""


class AccuracyError(CimgraphError):
    """The accuracy simulation was asked for something inconsistent."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choices, or '' when none is close."""
    close = difflib.get_close_matches(str(name), sorted(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
