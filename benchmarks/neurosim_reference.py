"""DNN+NeuroSim V1.4's figures for its default chip and cimgraph's statement of that chip: the reference, the
netlists, the activity of NeuroSim's traces and the evaluation of VGG-8 with it.

Reference: DNN+NeuroSim V1.4 at commit ac828e6, default Param.cpp, measured by the issue's reporters (issue 18:
VGG-8 on CIFAR-10, pipeline schedule, per image). Config A is the RRAM chip, config B the same chip with SRAM
synapses (memcelltype 1). cimgraph evaluates the bundled netlists that state the same chip
(netlists/neurosim_v14_rram_22nm.yaml, ..._sram_22nm.yaml) with the activity of NeuroSim's traces:

- input bit density 0.204 per layer, the middle of the 0.185-0.223 that the issue measured on those traces (the
  per-layer values are not given; the traces are 8-bit activations with 50 % zeros);
- cell density of the weight traces, computed exactly from how they are drawn: w = clip(round(N(0, 0.25) x 128))
  stored as 8-bit offset binary (w + 128), one bit per cell (:func:`weight_cell_density`);
- toggle rates of NeuroSim Param.cpp: inputtoggle 0.18 (its measured VGG-8 value), outputtoggle 0.5.

NeuroSim's categories map onto cimgraph's groups: "array + ADC" = array + adc (NeuroSim books the word-line
energy to its ADC), "other" = peripheral (decoders, muxes, switch matrices, pooling, activation).
"""
from __future__ import annotations

import math
import os

import numpy as np

import cimgraph
from cimgraph.schedule.activity import Activity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = "DNN+NeuroSim V1.4 at commit ac828e6, default Param.cpp, measured by the issue's reporters (issue 18)"
NETLISTS = {"A": "netlists/neurosim_v14_rram_22nm.yaml", "B": "netlists/neurosim_v14_sram_22nm.yaml"}
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2")
INPUT_DENSITY = (0.185 + 0.223) / 2          # middle of the traces' measured band
INPUT_TOGGLE, OUTPUT_TOGGLE = 0.18, 0.5      # NeuroSim V1.4 Param.cpp inputtoggle / outputtoggle
WEIGHT_SIGMA, WEIGHT_BITS = 0.25, 8          # trace weights: clip(round(N(0, 0.25) x 128))
# NeuroSim Param.cpp (validated = true) zeta: "post-layout energy increase", applied to the energy of its TOPS/W
# (33.9 uJ + leakage, x 1.22, gives its 29.5 TOPS/W for 2 x 615.9 M MACs); cimgraph applies no such factor.
ZETA = 1.22

# Figures per image, SI units. Energy categories: array + ADC, accumulation, buffers, interconnect, other.
REFERENCE = {
    "A": {
        "dynamic_energy": 33.9e-6, "tops_per_w": 29.5, "leakage_power": 2.17e-3, "period": 130.3e-6,
        "area": 358e-6, "empty_area": 257e-6,
        "energy": {"array + ADC": 18.2e-6, "accumulation": 3.82e-6, "buffers": 0.187e-6, "interconnect": 6.70e-6,
                   "other": 5.02e-6},
        "area_by": {"array": 3.61e-6, "ADC": 7.95e-6, "accumulation": 15.5e-6, "interconnect": 26.8e-6,
                    "buffers + other": 46.9e-6},
        "layer_latency": (130.3e-6, 77.1e-6, 38.8e-6, 41.3e-6, 12.9e-6, 23.8e-6, 0.726e-6, 0.404e-6),
        "layer_energy": (1.30e-6, 10.5e-6, 4.56e-6, 8.29e-6, 2.99e-6, 5.70e-6, 0.579e-6, 0.0023e-6),
        "tiles": (2, 8, 4, 8, 8, 8, 64, 1), "speedup": (16, 16, 4, 4, 2, 1, 1, 8), "utilization": 0.981,
    },
    "B": {
        "dynamic_energy": 36.0e-6, "tops_per_w": 27.8, "leakage_power": 2.24e-3, "period": 133.0e-6,
        "area": 80.1e-6, "fps": 7520.0,
        "energy": {"array + ADC": 24.9e-6, "accumulation": 3.82e-6, "buffers": 0.187e-6, "interconnect": 3.05e-6,
                   "other": 4.07e-6},
    },
}
# cimgraph groups behind each NeuroSim category
ENERGY_GROUPS = {"array + ADC": ("array", "adc"), "accumulation": ("accumulation",), "buffers": ("buffer",),
                 "interconnect": ("interconnect",), "other": ("peripheral",)}
AREA_GROUPS = {"array": ("array",), "ADC": ("adc",), "accumulation": ("accumulation",),
               "interconnect": ("interconnect",), "buffers + other": ("buffer", "peripheral")}


def weight_cell_density(sigma: float = WEIGHT_SIGMA, bits: int = WEIGHT_BITS) -> float:
    """Fraction of '1' cells of the weight traces: w = clip(round(N(0, sigma) x 2^(bits-1))) in offset binary.

    Exact: P(w = k) is the normal probability of the rounding interval (the clipped tails fall on the end codes),
    and the density is the mean over the ``bits`` bit planes of P(bit = 1).
    """
    half = 2 ** (bits - 1)
    scale = sigma * half
    cdf = lambda x: 0.5 * (1 + math.erf(x / (scale * math.sqrt(2))))  # noqa: E731
    codes = np.arange(-half, half)
    lower = np.array([0.0 if k == -half else cdf(k - 0.5) for k in codes])
    upper = np.array([1.0 if k == half - 1 else cdf(k + 0.5) for k in codes])
    p = upper - lower
    planes = ((codes + half)[:, None] >> np.arange(bits)[None, :]) & 1
    return float((p[:, None] * planes).sum() / bits)


def neurosim_activity(n_layers: int) -> Activity:
    """The activity of NeuroSim's VGG-8 traces (module docstring)."""
    return Activity(np.full(n_layers, INPUT_DENSITY), np.full(n_layers, weight_cell_density()),
                    input_toggle=np.full(n_layers, INPUT_TOGGLE), output_toggle=np.full(n_layers, OUTPUT_TOGGLE))


def evaluate(config: str, method: str | None = None, netlist: str | dict | None = None):
    """(Mapping, Result) of VGG-8 on the NeuroSim-equivalent netlist of ``config`` ("A" or "B"), or on
    ``netlist`` (a path or a parsed mapping)."""
    chip = cimgraph.load_netlist(netlist or os.path.join(ROOT, NETLISTS[config]))
    mapping = cimgraph.map_network(chip, cimgraph.bundled("vgg8"), method=method)
    return mapping, cimgraph.evaluate(mapping, activity=neurosim_activity(len(mapping.layers)))


def component_area(result) -> float:
    """Sum of component areas (what NeuroSim's 358 mm^2 holds besides its empty bounding box)."""
    return float(sum(result.area_by_group.values()))


def neurosim_vectors(layer) -> int:
    """Input vectors NeuroSim reads for ``layer``: (H - k + 1)^2 / stride^2 (it ignores padding)."""
    h, w = layer.input_size
    return max(1, (h - layer.kernel + 1) // layer.stride) * max(1, (w - layer.kernel + 1) // layer.stride)


def parts(mapping) -> list:
    """The single-design Mappings of ``mapping`` (one per tile design of a hybrid chip)."""
    return list(mapping.parts.values()) if hasattr(mapping, "parts") else [mapping]
