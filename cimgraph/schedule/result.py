"""The Result of an evaluation: plain attrs data (JSON round trip), the input of reports.

All values SI: area m^2, latency s, energy J, power W. ``energy`` maps of a layer are keyed by
component node path; ``by_group`` maps by report group (array, adc, accumulation, buffer,
interconnect, peripheral).
"""
from __future__ import annotations

import json
import os
from typing import Any

import attrs
import cattrs


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

    def to_dict(self) -> dict[str, Any]:
        return cattrs.unstructure(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        return cattrs.structure(data, cls)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1, sort_keys=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "Result":
        from ..errors import CimgraphError

        try:
            with open(path, encoding="utf-8") as handle:
                return cls.from_dict(json.load(handle))
        except (OSError, ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
            raise CimgraphError(f"{os.fspath(path)}: not a cimgraph result JSON ({type(exc).__name__}: {exc})") from None
