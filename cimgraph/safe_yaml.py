"""Bounded reading of untrusted text: size-limited UTF-8 decoding and a safe YAML loader with
limits on aliases, nesting depth, expanded size and integer length, that rejects duplicate keys.

Every input file cimgraph reads (netlists, network YAML, NetWork.csv, memory-state CSV, `--set`
values) goes through here, so a hostile file fails fast and with a short message: the alias
"billion laughs" fails while composing (before anything is expanded), and no message ever quotes
more than a few dozen characters of the input.
"""
from __future__ import annotations

import os
from typing import Any

import yaml

from .errors import InputError

MAX_BYTES = 4 * 1024 * 1024   # any text input (CSV files); a NetWork.csv of 100,000 layers is ~3 MiB
MAX_YAML_BYTES = 1024 * 1024  # a netlist or network YAML is kilobytes (PyYAML scans ~1 MiB/s)
MAX_DEPTH = 64                # nesting of mappings / sequences
MAX_ALIASES = 256             # `*alias` references in one document
MAX_NODES = 200_000           # nodes after alias expansion (what a consumer would walk)
MAX_INT_DIGITS = 40           # longer integers are never a chip parameter


def read_text(path: str | os.PathLike, limit: int = MAX_BYTES) -> str:
    """The file's text, decoded as UTF-8 (a BOM is allowed). Raises InputError (where = '$' or
    'line L, column C') for a file that cannot be read, is larger than ``limit`` or is not UTF-8."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except IsADirectoryError:
        raise InputError("$", "cannot read the file: it is a directory") from None
    except OSError as exc:
        raise InputError("$", f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError("$", f"the file is larger than {limit // 1024} KiB; expected a text description")
    return decode(data)


def decode(data: bytes) -> str:
    """UTF-8 text of ``data``, or InputError naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"line {line}, column {column}",
                         f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8") from None


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and depth while composing and refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # The scanner looks ahead over every open `[`/`{` (quadratic in their number): stop it early.
        if self.flow_level >= MAX_DEPTH:
            raise InputError(_where(self.get_mark()), f"nested deeper than {MAX_DEPTH} levels")
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise InputError(_where(self.peek_event().start_mark),
                                 f"more than {MAX_ALIASES} aliases (*name); expand the document by hand")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise InputError(_where(self.peek_event().start_mark), f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise InputError("$", f"the document expands to more than {MAX_NODES} values through its aliases")
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key; SafeConstructor reports it
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise InputError(f"line {line}", f"duplicate key {_short(key)} (first given on line {first}); "
                                                     "each key may appear once")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        digits = str(node.value).replace("_", "").lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            raise InputError(_where(node.start_mark), f"an integer of {len(digits)} digits is too large "
                                                      f"(at most {MAX_INT_DIGITS})")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """Values a full walk of ``node`` visits (aliases counted each time they are used)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = min(total, MAX_NODES + 1)
    return memo[id(node)]


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "$"


def _short(value: Any, limit: int = 40) -> str:
    from .errors import brief

    return brief(value, limit)


def load(text: str) -> Any:
    """Parse one YAML document from ``text`` with the bounded safe loader.

    Raises InputError (``where`` = line/column) for invalid YAML, duplicate keys, too many aliases,
    too deep nesting, a document that expands beyond the limit or an oversized integer.
    """
    if len(text) > MAX_YAML_BYTES:
        raise InputError("$", f"the YAML text is larger than {MAX_YAML_BYTES // 1024} KiB; expected a description "
                              "of kilobytes")
    loader = None
    try:
        loader = _BoundedLoader(text)
        return loader.get_single_data()
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise InputError(_where(exc.problem_mark or exc.context_mark), f"not valid YAML: {_clip(problem)}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(f"line {line}", f"not valid YAML: character #x{exc.character:04x} is not allowed") from None
    except yaml.YAMLError as exc:
        raise InputError("$", f"not valid YAML: {_clip(str(exc))}") from None
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise InputError("$", f"not valid YAML: {type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_file(path: str | os.PathLike, limit: int = MAX_YAML_BYTES) -> Any:
    """``load(read_text(path))``."""
    return load(read_text(path, limit))


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def assignments(items: list[str], flag: str, example: str, error: type) -> list[tuple[str, str]]:
    """Split command-line ``NAME=VALUE`` items (``--set``, ``--option``) into (name, value text) pairs.

    Raises ``error`` for an item without a name or value, or a name given twice.
    """
    from .errors import brief

    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise error(f"{flag} {brief(item)}: expected {example}")
        if key in pairs:
            raise error(f"{flag} {brief(key)} is given twice; give all its values once")
        pairs[key] = value
    return list(pairs.items())
