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
    message: str = attrs.field(converter=lambda text: clip(str(text)))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class NetlistError(CimgraphError):
    """A netlist file failed to load; carries every problem found, each with its key path."""

    def __init__(self, problems: Sequence[Problem], file: str | None = None):
        self.problems = list(problems)
        self.file = file
        prefix = f"{file}: " if file else ""
        super().__init__("\n".join(prefix + str(p) for p in self.problems))


class InputError(CimgraphError):
    """A file or text could not be read as what it claims to be (size, encoding, YAML syntax).

    ``where`` is ``$`` or ``line L[, column C]``; readers re-raise it as their own error with the file.
    """

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class FieldError(CimgraphError, ValueError):
    """A model, cell or technology field outside its valid (physical) range; names the field."""


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


MESSAGE_LIMIT = 600  # characters of one problem message; input text is quoted by `brief`, never in full


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (with a marker), so no message grows with its input."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def brief(value: object, limit: int = 60) -> str:
    """A short repr of a user value for messages: long strings and containers are cut."""
    if isinstance(value, (dict, list, tuple, set)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except Exception:  # pragma: no cover - a value whose repr fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choices, or '' when none is close."""
    close = difflib.get_close_matches(str(name), sorted(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
