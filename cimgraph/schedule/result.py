"""The Result of an evaluation: plain attrs data (JSON round trip), the input of reports.

All values SI: area m^2, latency s, energy J, power W. ``energy`` maps of a layer are keyed by
component node path; ``by_group`` maps by report group (array, adc, accumulation, buffer,
interconnect, peripheral).
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import attrs
import cattrs

from ..errors import CimgraphError, clip


@attrs.frozen
class ComponentResult:
    """One component node: what it is, who modelled it, and its chip-wide area and leakage."""

    path: str
    kind: str
    group: str
    plugin: str
    version: str
    source: str
    count: int          # instances per parent
    instances: int      # instances on the chip
    area: float         # all instances, m^2
    leakage: float      # all instances, W


@attrs.frozen
class LayerResult:
    """One layer per image: latency and dynamic energy, split by component and by group."""

    name: str
    kind: str
    macs: int
    tiles: int
    pes: int
    subarrays: int
    duplication: int
    utilization: float
    latency: float
    energy: float
    latency_by_group: dict[str, float]
    energy_by_group: dict[str, float]
    energy_by_component: dict[str, float]
    input_activity: float
    weight_density: float


@attrs.frozen
class Result:
    """Chip-level figures for one network on one chip under one schedule (per image)."""

    chip: str
    network: str
    technology: str
    cell: str
    schedule: str
    method: str
    area: float
    area_by_group: dict[str, float]
    components: tuple[ComponentResult, ...]
    layers: tuple[LayerResult, ...]
    latency: float                 # one image, first input to last output
    period: float                  # time between images (pipeline: slowest stage)
    dynamic_energy: float
    leakage_power: float
    leakage_energy: float          # per image, over the period
    energy: float                  # dynamic + leakage, per image
    macs: int
    tops: float
    tops_per_w: float
    tops_per_mm2: float
    fps: float
    peak_latency: float            # compute only (arrays, ADC, accumulation)
    peak_energy: float
    peak_tops: float
    peak_tops_per_w: float
    utilization: float
    latency_by_group: dict[str, float]
    energy_by_group: dict[str, float]
    netlist: dict[str, Any] = attrs.Factory(dict)
    placed_area: float = 0.0           # chip area with each subarray as its placed bounding box (m^2)
    subarray_area: float = 0.0         # one subarray: array + periphery, summed (m^2)
    subarray_placed_area: float = 0.0  # one subarray: bounding box, periphery aligned to the array (m^2)
    designs: list[dict[str, Any]] = attrs.Factory(list)   # hybrid chips: tile designs used (schedule/hybrid.py)
    warnings: tuple[str, ...] = ()  # e.g. a plugin replaced a built-in model this chip uses

    def to_dict(self) -> dict[str, Any]:
        return cattrs.unstructure(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        return cattrs.structure(data, cls)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        try:
            text = json.dumps(self.to_dict(), indent=1, sort_keys=True, allow_nan=False)
        except ValueError:  # NaN or infinity: never write invalid JSON
            raise CimgraphError(f"result of {self.chip!r}: a figure is not finite; refusing to write it") from None
        if path is not None:
            from ..output import write_text

            write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "Result":
        """Load and validate a result JSON (what `cimgraph run --json` wrote); see ``read_result_json``."""
        file = os.fspath(path)
        data = read_result_json(file)
        try:
            return cls.from_dict(data)
        except cattrs.BaseValidationError as exc:
            details = "; ".join(cattrs.transform_error(exc)[:10])
            raise CimgraphError(f"{file}: $: not a cimgraph result JSON: {clip(details, 400)}") from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise CimgraphError(f"{file}: $: not a cimgraph result JSON ({type(exc).__name__})") from None


def read_result_json(file: str, figures: bool = True) -> dict[str, Any]:
    """The JSON object in ``file``, refused with the file and where for: a file too large or not UTF-8,
    invalid JSON (with its line and column), NaN / Infinity (not JSON), duplicate keys, nesting too deep,
    and (``figures``) any number outside ``netlist`` / ``warnings`` that is not finite and >= 0."""
    from .. import safe_yaml
    from ..errors import InputError

    try:
        text = safe_yaml.read_text(file, limit=RESULT_BYTES)
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
        if not isinstance(data, dict):
            raise CimgraphError(f"{file}: $: expected a JSON object (a cimgraph result), got {type(data).__name__}")
        problems = _figure_problems({k: v for k, v in data.items() if k not in ("netlist", "warnings")}, "$") \
            if figures else []
    except InputError as exc:
        raise CimgraphError(f"{file}: {exc.where}: {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise CimgraphError(f"{file}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # NaN / Infinity constants, duplicate keys, huge integers
        raise CimgraphError(f"{file}: $: not a cimgraph result JSON ({clip(str(exc), 200)})") from None
    except RecursionError:
        raise CimgraphError(f"{file}: $: not a cimgraph result JSON (nested too deeply)") from None
    if problems:
        raise CimgraphError("\n".join(f"{file}: {p}" for p in problems[:20]))
    return data


RESULT_BYTES = 64 * 1024 * 1024


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in JSON; a result holds finite figures only")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def _figure_problems(value: Any, path: str) -> list[str]:
    """Every number in a result must be finite and >= 0 (areas, times, energies, counts, ratios)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            return [f"{path}: expected a finite number >= 0, got {value!r}"]
        return []
    problems: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            problems.extend(_figure_problems(item, f"{path}.{str(key)[:60]}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_figure_problems(item, f"{path}[{index}]"))
    return problems
