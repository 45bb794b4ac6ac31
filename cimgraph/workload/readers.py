"""Network description files: NeuroSim's NetWork.csv and cimgraph's YAML.

NetWork.csv (DNN+NeuroSim V2 manual, sec. 9, Table II) has one row per layer and eight integer columns, no header:
IFM length, IFM width, IFM channel depth, kernel length, kernel width, kernel depth (output channels),
followed by pooling (0/1), stride. A layer with a 1x1 IFM and a 1x1 kernel is fully connected. The format has
no padding column: NeuroSim's networks pad convolutions to keep the feature-map size ("same"), so padding is
(kernel - 1) // 2, and its pooling is 2x2 max pooling with stride 2 (factor 2).
"""
from __future__ import annotations

import csv
import io
import os
from typing import Any

import attrs
import yaml

from .. import safe_yaml
from ..errors import InputError, WorkloadError, brief, clip, did_you_mean
from .layers import Layer, Network

CSV_COLUMNS = ("IFM length", "IFM width", "IFM channel depth", "kernel length", "kernel width",
               "kernel depth", "followed by pooling (0/1)", "stride")
NEUROSIM_POOL = 2  # NeuroSim's MaxPooling unit: 2x2 window, stride 2
# Largest value of each column: feature maps up to 65536 pixels a side, up to 2^20 channels (beyond any
# network a chip is built for; larger values are typing errors and are blamed on their row and column).
CSV_MAXIMUMS = (1 << 16, 1 << 16, 1 << 20, 1 << 10, 1 << 10, 1 << 20, 1, 1 << 10)


def _csv_int(text: str, path: str, row: int, column: int, minimum: int) -> int:
    where = f"{path}: row {row}, column {column} ({CSV_COLUMNS[column - 1]})"
    maximum = CSV_MAXIMUMS[column - 1]
    digits = text.strip()
    try:
        value = int(digits) if len(digits) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise WorkloadError(f"{where}: expected an integer from {minimum} to {maximum}, got {brief(digits)}")
    if not minimum <= value <= maximum:
        raise WorkloadError(f"{where}: expected an integer from {minimum} to {maximum}, got {value}")
    return value


def read_network_csv(path: str | os.PathLike, name: str | None = None) -> Network:
    """Read a NeuroSim NetWork.csv. Blank lines and lines starting with '#' are skipped.

    Layers are named conv1, conv2, ... and fc1, fc2, ... in file order. Raises WorkloadError naming the file,
    row and column of the first malformed cell.
    """
    path = os.fspath(path)
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise WorkloadError(f"{path}: row {reader.line_num}: not a CSV row ({clip(str(exc), 80)})") from None
    layers: list[Layer] = []
    counts = {"conv": 0, "fc": 0}
    for number, cells in enumerate(rows, start=1):
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        while cells and not cells[-1].strip():  # tolerate a trailing comma
            cells = cells[:-1]
        if len(cells) != len(CSV_COLUMNS):
            raise WorkloadError(f"{path}: row {number}: expected {len(CSV_COLUMNS)} columns "
                                f"({', '.join(CSV_COLUMNS)}), got {len(cells)}")
        minimums = (1, 1, 1, 1, 1, 1, 0, 1)
        values = [_csv_int(cell, path, number, col, low) for col, (cell, low) in enumerate(zip(cells, minimums), 1)]
        height, width, channels, k_len, k_wid, out, pooled, stride = values
        if k_len != k_wid:
            raise WorkloadError(f"{path}: row {number}, columns 4-5: expected a square kernel, got {k_len}x{k_wid}")
        kind = "fc" if (height, width, k_len) == (1, 1, 1) else "conv"
        counts[kind] += 1
        try:
            layers.append(Layer(name=f"{kind}{counts[kind]}", kind=kind, in_channels=channels, out_channels=out,
                                kernel=k_len, stride=stride, padding=(k_len - 1) // 2, input_size=(height, width),
                                pool=NEUROSIM_POOL if pooled else 1))
        except WorkloadError as exc:
            raise WorkloadError(f"{path}: row {number}: {exc}") from None
    if not layers:
        raise WorkloadError(f"{path}: no layer rows found (expected rows of {len(CSV_COLUMNS)} integers)")
    return Network(name or os.path.splitext(os.path.basename(path))[0], tuple(layers))


def write_network_csv(network: Network, path: str | os.PathLike) -> None:
    """Write ``network`` as a NeuroSim NetWork.csv (the inverse of read_network_csv).

    Raises WorkloadError for a layer the format cannot express (grouped, skip connection, non-"same"
    padding, pooling other than factor 2).
    """
    lines = []
    for layer in network.layers:
        where = f"layer {layer.name!r}"
        if layer.kind not in ("conv", "fc"):
            raise WorkloadError(f"{where}: NetWork.csv cannot express a {layer.kind} layer; use YAML")
        if layer.groups != 1:
            raise WorkloadError(f"{where}: NetWork.csv cannot express groups={layer.groups}")
        if layer.residual:
            raise WorkloadError(f"{where}: NetWork.csv cannot express a skip connection (residual); use YAML")
        if layer.padding != (layer.kernel - 1) // 2:
            raise WorkloadError(f"{where}: NetWork.csv assumes padding {(layer.kernel - 1) // 2} for a "
                                f"{layer.kernel}x{layer.kernel} kernel, the layer has {layer.padding}")
        if layer.pool not in (1, NEUROSIM_POOL):
            raise WorkloadError(f"{where}: NetWork.csv only expresses 2x2 pooling, the layer pools by {layer.pool}")
        height, width = layer.input_size
        lines.append(f"{height},{width},{layer.in_channels},{layer.kernel},{layer.kernel},{layer.out_channels},"
                     f"{int(layer.pool > 1)},{layer.stride}\n")
    with open(path, "w") as handle:
        handle.writelines(lines)


_LAYER_FIELDS = {field.name for field in attrs.fields(Layer)}
_REQUIRED = ("name", "kind", "in_channels", "out_channels")
# Integer layer fields and their ranges (the same bounds as NetWork.csv's columns).
_INT_FIELDS = {"in_channels": (1, 1 << 20), "out_channels": (1, 1 << 20), "kernel": (1, 1 << 10),
               "stride": (1, 1 << 10), "padding": (0, 1 << 10), "groups": (1, 1 << 20), "pool": (1, 1 << 10)}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _layer_problems(entry: dict, where: str) -> list[str]:
    """Type and range problems of one layer mapping, each as ``where.key: message``."""
    problems = []
    for key in entry:
        if key not in _LAYER_FIELDS:
            problems.append(f"{where}.{key}: unknown layer field{did_you_mean(str(key), _LAYER_FIELDS)}; "
                            f"expected one of {', '.join(sorted(_LAYER_FIELDS))}")
    for key in _REQUIRED:
        if key not in entry:
            problems.append(f"{where}: missing required field {key!r}")
    for key, (low, high) in _INT_FIELDS.items():
        if key in entry and not (_is_int(entry[key]) and low <= entry[key] <= high):
            problems.append(f"{where}.{key}: expected an integer from {low} to {high}, got {brief(entry[key])}")
    for key in ("name", "kind"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key]):
            problems.append(f"{where}.{key}: expected a non-empty string, got {brief(entry[key])}")
    if "input_size" in entry:
        size = entry["input_size"]
        if not (isinstance(size, (list, tuple)) and len(size) == 2
                and all(_is_int(v) and 1 <= v <= 1 << 16 for v in size)):
            problems.append(f"{where}.input_size: expected [height, width], two integers from 1 to 65536, "
                            f"got {brief(size)}")
    if "residual" in entry and not isinstance(entry["residual"], bool):
        problems.append(f"{where}.residual: expected true or false, got {brief(entry['residual'])}")
    return problems


def network_from_dict(data: Any, source: str = "<data>") -> Network:
    """Build a Network from ``{name, layers: [{name, kind, in_channels, ...}, ...]}``.

    Raises WorkloadError listing every problem, each as ``source: $.layers[i].key: what was expected``.
    """
    if not isinstance(data, dict):
        raise WorkloadError(f"{source}: $: expected a mapping with 'name' and 'layers', got {type(data).__name__}")
    unknown = set(map(str, data)) - {"name", "layers", "description", "dataset", "input"}
    if unknown:
        key = sorted(unknown)[0]
        raise WorkloadError(f"{source}: $.{key}: unknown key{did_you_mean(key, ['name', 'layers'])}")
    if not isinstance(data.get("layers"), list) or not data["layers"]:
        raise WorkloadError(f"{source}: $.layers: expected a non-empty list of layers")
    layers = []
    problems: list[str] = []
    for index, entry in enumerate(data["layers"]):
        where = f"$.layers[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping of layer fields, got {brief(entry)}")
            continue
        found = _layer_problems(entry, where)
        if found:
            problems.extend(found)
            continue
        try:
            layers.append(Layer(**entry))
        except WorkloadError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise WorkloadError("\n".join(f"{source}: {p}" for p in problems[:50]))
    try:
        return Network(str(data.get("name", os.path.splitext(os.path.basename(source))[0])), tuple(layers))
    except WorkloadError as exc:
        raise WorkloadError(f"{source}: {exc}") from None


def network_to_dict(network: Network) -> dict[str, Any]:
    """The YAML/JSON form of a network (inverse of network_from_dict)."""
    layers = []
    for layer in network.layers:
        entry = attrs.asdict(layer)
        entry["input_size"] = list(layer.input_size)
        layers.append(entry)
    return {"name": network.name, "layers": layers}


def read_network_yaml(path: str | os.PathLike) -> Network:
    """Read a network from YAML (safe loader): ``name`` and a list of ``layers`` with Layer's fields."""
    path = os.fspath(path)
    try:
        data = safe_yaml.load(_read_text(path))
    except InputError as exc:
        raise WorkloadError(f"{path}: {exc.where}: {exc.message}") from None
    return network_from_dict(data, path)


def _read_text(path: str) -> str:
    """A network file's text (bounded, UTF-8), or WorkloadError naming the file and where."""
    try:
        return safe_yaml.read_text(path)
    except InputError as exc:
        raise WorkloadError(f"{path}: {exc.where}: {exc.message}") from None


def write_network_yaml(network: Network, path: str | os.PathLike) -> None:
    """Write ``network`` as YAML (one flow-style mapping per layer)."""
    data = network_to_dict(network)
    lines = [f"name: {data['name']}\n", "layers:\n"]
    for entry in data["layers"]:
        lines.append("  - " + yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=1000))
    with open(path, "w") as handle:
        handle.writelines(lines)


def read_network(path: str | os.PathLike) -> Network:
    """Read a network file by extension (.csv: NetWork.csv; .yaml/.yml: YAML)."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension == ".csv":
        return read_network_csv(path)
    if extension in (".yaml", ".yml"):
        return read_network_yaml(path)
    raise WorkloadError(f"{os.fspath(path)}: unknown network file type {extension!r} (expected .csv, .yaml or .yml)")
