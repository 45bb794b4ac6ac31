"""Per-layer activity from DNN+NeuroSim's layer traces (the files its Python wrapper writes).

DNN+NeuroSim V1.x's wrapper (`hook.py`, run by `inference.py`) writes, per layer, into
``layer_record_<model>/``:

- ``weight<Layer>.csv``: the quantised weights in [-1, 1] as a float matrix, one row per unfolded weight row
  (C x k x k, torch's unfold order) and one column per output channel;
- ``input<Layer>.csv``: the layer's input bits as '0'/'1' characters, one row per unfolded input row and, for
  each input vector, ``input_bits`` columns (most significant bit first);
- ``trace_command.sh``: the NeuroSim command line, which lists the weight and input file of every layer in
  order.

NeuroSim's C++ reads these bits to count how many rows each input cycle activates; the same statistic here is
the input bit density (the fraction of '1' bits), which is what `Activity.input` holds. The weight file gives
the cell density: each weight w becomes the offset-binary code round((w + 1) / 2 x (2^wb - 1)) (NeuroSim's
conductance mapping of a weight in [-1, 1]), sliced into cells of ``cell_bits`` bits; the mean cell level
over (2^cell_bits - 1) is `Activity.weight`.
"""
from __future__ import annotations

import os
import re
import io
import shlex
from typing import Sequence

import numpy as np

from ..errors import WorkloadError
from .activity import Activity

_BIT_CHARACTERS = b"01,\r\n \t"


def read_neurosim_traces(directory: str, layers: Sequence, weight_bits: int, cell_bits: int) -> Activity:
    """Per-layer input bit density and cell density from a DNN+NeuroSim trace folder.

    ``layers`` are the mapped network's `Layer`s; the traces must list one (weight, input) pair per layer, in
    order (from ``trace_command.sh`` when present, else the ``weight*.csv`` / ``input*.csv`` files sorted by
    their layer number). Every file is checked against its layer's shape.
    """
    pairs = trace_files(directory)
    if len(pairs) != len(layers):
        raise WorkloadError(f"{directory}: the traces describe {len(pairs)} layers; the network has {len(layers)} "
                            f"({', '.join(layer.name for layer in layers)})")
    inputs, weights = [], []
    for layer, (weight_file, input_file) in zip(layers, pairs):
        inputs.append(input_bit_density(input_file, layer.weight_rows))
        weights.append(cell_density(weight_file, layer.weight_rows, layer.weight_columns, weight_bits, cell_bits))
    return Activity(inputs, weights)


def trace_files(directory: str) -> list[tuple[str, str]]:
    """The (weight file, input file) pair of every layer, in network order."""
    if not os.path.isdir(directory):
        raise WorkloadError(f"--traces {directory}: not a directory (expected DNN+NeuroSim's layer_record_<model>/)")
    command = os.path.join(directory, "trace_command.sh")
    if os.path.isfile(command):
        return _pairs_from_command(command, directory)
    names = os.listdir(directory)
    weights = sorted((n for n in names if n.startswith("weight") and n.endswith(".csv")), key=_layer_order)
    inputs = sorted((n for n in names if n.startswith("input") and n.endswith(".csv")), key=_layer_order)
    if not weights or len(weights) != len(inputs):
        raise WorkloadError(f"{directory}: expected trace_command.sh, or one weight<Layer>.csv and one "
                            f"input<Layer>.csv per layer; found {len(weights)} weight and {len(inputs)} input files")
    for w, i in zip(weights, inputs):
        if w[len("weight"):] != i[len("input"):]:
            raise WorkloadError(f"{directory}: {w} has no matching input file (found {i})")
    return [(os.path.join(directory, w), os.path.join(directory, i)) for w, i in zip(weights, inputs)]


def _layer_order(name: str) -> tuple:
    """Conv layers before FC layers, then by layer number (NeuroSim names them Conv0_, ..., FC0_, ...)."""
    stem = re.sub(r"^(weight|input)", "", name[:-4])
    number = re.search(r"\d+", stem)
    return (stem.lower().startswith("fc"), int(number.group()) if number else 0, stem)


def _pairs_from_command(command: str, directory: str) -> list[tuple[str, str]]:
    text = _read_text(command, limit=1 << 20)
    words = [w for w in shlex.split(text, comments=True) if w.endswith(".csv")]
    traces = [w for w in words if os.path.basename(w).startswith(("weight", "input"))]
    if len(traces) % 2 or not traces:
        raise WorkloadError(f"{command}: expected pairs of weight<Layer>.csv input<Layer>.csv, got {traces[:6]}")
    pairs = []
    for weight, inp in zip(traces[::2], traces[1::2]):
        if not (os.path.basename(weight).startswith("weight") and os.path.basename(inp).startswith("input")):
            raise WorkloadError(f"{command}: expected a weight file then an input file, got {weight} {inp}")
        pairs.append((os.path.join(directory, os.path.basename(weight)),
                      os.path.join(directory, os.path.basename(inp))))
    return pairs


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise WorkloadError(f"{path}: cannot read: {exc.strerror}") from exc


def _read_text(path: str, limit: int) -> str:
    raw = _read_bytes(path)[:limit]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkloadError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def _shape(raw: bytes, path: str) -> tuple[int, int]:
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines:
        raise WorkloadError(f"{path}: empty trace file")
    columns = lines[0].count(b",") + 1
    for row, line in enumerate(lines, start=1):
        if line.count(b",") + 1 != columns:
            raise WorkloadError(f"{path}: row {row} has {line.count(b',') + 1} columns, row 1 has {columns}")
    return len(lines), columns


def _raise_first_non_number(raw: bytes, path: str) -> None:
    for row, line in enumerate(raw.splitlines(), start=1):
        for column, field in enumerate(line.split(b","), start=1):
            try:
                float(field)
            except ValueError:
                raise WorkloadError(f"{path}: row {row}, column {column}: expected a number, "
                                    f"got {field[:20]!r}") from None
    raise WorkloadError(f"{path}: not every field reads as a number")


def input_bit_density(path: str, rows: int) -> float:
    """Fraction of '1' bits in a NeuroSim input trace (rows = unfolded input rows, columns = vectors x bits)."""
    raw = _read_bytes(path)
    bad = raw.translate(None, _BIT_CHARACTERS)
    if bad:
        position = next(i for i, b in enumerate(raw) if b not in _BIT_CHARACTERS)
        row = raw.count(b"\n", 0, position) + 1
        raise WorkloadError(f"{path}: row {row}: expected only '0' and '1' bits (NeuroSim's input trace), "
                            f"got {raw[position:position + 1]!r}")
    n_rows, _ = _shape(raw, path)
    if n_rows != rows:
        raise WorkloadError(f"{path}: {n_rows} rows; the layer reads {rows} unfolded input rows")
    ones, zeros = raw.count(b"1"), raw.count(b"0")
    return ones / (ones + zeros)


def cell_density(path: str, rows: int, columns: int, weight_bits: int, cell_bits: int) -> float:
    """Mean programmed cell level (0 = G_off, 1 = G_on) of a NeuroSim weight trace."""
    raw = _read_bytes(path)
    n_rows, n_columns = _shape(raw, path)
    if (n_rows, n_columns) != (rows, columns):
        raise WorkloadError(f"{path}: a {n_rows} x {n_columns} weight matrix; the layer has {rows} unfolded rows x "
                            f"{columns} output channels")
    try:
        weights = np.loadtxt(io.BytesIO(raw), delimiter=",", ndmin=2).ravel()
    except ValueError:
        _raise_first_non_number(raw, path)
    if not np.all(np.isfinite(weights)) or np.any(np.abs(weights) > 1 + 1e-6):
        index = int(np.flatnonzero(~np.isfinite(weights) | (np.abs(weights) > 1 + 1e-6))[0])
        raise WorkloadError(f"{path}: row {index // columns + 1}, column {index % columns + 1}: weights must lie "
                            f"in [-1, 1] (NeuroSim's quantised weights), got {weights[index]}")
    codes = np.rint((np.clip(weights, -1, 1) + 1) / 2 * (2**weight_bits - 1)).astype(np.int64)
    levels = 2**cell_bits - 1
    digits = [(codes >> shift) & levels for shift in range(0, weight_bits, cell_bits)]
    return float(np.mean([d.mean() for d in digits]) / levels)
