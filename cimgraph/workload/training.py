"""On-chip training workload: settings and the per-layer work of the four training phases.

DNN+NeuroSim V2 (seed 001 sec. 4, 5.2, 5.3) trains with mini-batches of B images. Per image and
layer it runs, without pipelining the phases (sec. 5.2, last paragraph):

1. feed-forward: the inference work (counted by cimgraph.schedule.counts);
2. activation gradient: the layer's output error (V positions x N channels) is applied to the
   columns of the same arrays and read out along the rows (transposed read, sec. 5.2, Fig. 13):
   ``V x error_bits`` bit-cycles on each of the layer's subarrays; the first layer needs no input
   error, so it has none;
3. weight gradient: K x K x C_in unrolled activation vectors (length V) against the error matrix
   (V rows x N x error_bits columns) in the weight-gradient unit (sec. 5.3, Fig. 15);
4. weight update, once per batch: every used row of every weight copy is rewritten row by row
   (sec. 5.1).

With B > 1 the B copies of activations, errors and weight gradients go to DRAM and come back
(sec. 4): per image and layer 2 x (activation + error + gradient) bits. Everything is numpy arrays
over the mapped layers (per image, except the update which is per batch).
"""
from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..errors import CimgraphError


def _bits(instance, attribute, value) -> None:
    if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 32):
        raise CimgraphError(f"training setting {attribute.name}: expected an integer from 1 to 32, got {value!r}")


def _count(instance, attribute, value) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        raise CimgraphError(f"training setting {attribute.name}: expected a positive integer, got {value!r}")


@attrs.frozen
class TrainingSettings:
    """Batch size, iterations per epoch, epochs and the precisions (bits) of the training data.

    Defaults: DNN+NeuroSim V2 Param.cpp batchSize = 200, numIteration = 250 (seed 001 sec. 3), one
    epoch; weight and activation bits from the netlist precision; error, gradient and delta 8 bits
    (the WAGE wrapper's word lengths, seed 001 sec. 6).
    """

    batch: int = attrs.field(default=200, validator=_count)
    iterations: int = attrs.field(default=250, validator=_count)
    epochs: int = attrs.field(default=1, validator=_count)
    weight_bits: int | None = attrs.field(default=None, validator=_bits)
    activation_bits: int | None = attrs.field(default=None, validator=_bits)
    error_bits: int = attrs.field(default=8, validator=_bits)
    gradient_bits: int = attrs.field(default=8, validator=_bits)
    delta_bits: int = attrs.field(default=8, validator=_bits)
    # WAGE Q_G's learning rate (seed 001 sec. 6): with a Delta_dist.csv trace absent, a weight moves one delta
    # LSB per update with probability lr |g| / max|g| (cimgraph.schedule.training_update.changing_fraction)
    learning_rate: float = attrs.field(default=1.0)

    @learning_rate.validator
    def _lr(self, attribute, value) -> None:
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1):
            raise CimgraphError(f"training setting learning_rate: expected a number in (0, 1], got {value!r}")

    @property
    def images(self) -> int:
        """Images per epoch (batch x iterations)."""
        return self.batch * self.iterations

    @property
    def updates(self) -> int:
        """Weight updates per epoch (one per batch)."""
        return self.iterations

    def resolved(self, chip: Any) -> "TrainingSettings":
        """Fill the weight and activation bits from the netlist precision."""
        p = chip.spec.precision
        return attrs.evolve(self, weight_bits=self.weight_bits or p.weight,
                            activation_bits=self.activation_bits or p.input)


@attrs.frozen
class TrainingWork:
    """Per-layer training work (numpy arrays over layers; per image unless noted)."""

    names: tuple[str, ...]
    transposed_bit_cycles: np.ndarray   # subarray bit-cycles of the activation-gradient phase (all copies)
    transposed_vectors: np.ndarray      # error vectors applied to the columns
    error_in_bits: np.ndarray           # output-error bits entering the layer (backward)
    error_out_bits: np.ndarray          # input-error bits the layer produces (0 for the first layer)
    wg_vectors: np.ndarray              # K x K x C_in unrolled activation vectors
    wg_rows: np.ndarray                 # error-matrix rows (output positions V)
    wg_columns: np.ndarray              # error-matrix columns (N x error bits)
    update_rows: np.ndarray             # row writes per weight update (all copies), per batch
    update_cells: np.ndarray            # cells rewritten per update (all copies), per batch
    weights: np.ndarray                 # weights of one copy
    activation_bits: np.ndarray         # layer input activations (bits) stored for the weight gradient
    gradient_bits: np.ndarray           # weight-gradient bits of one image
    dram_bits: np.ndarray               # bits to DRAM and back per image (0 with batch 1)
    outer_products: np.ndarray          # POPU: outer-product updates per image (one per output position)


def training_work(mapping: Any, settings: TrainingSettings) -> TrainingWork:
    """Derive the training work of every mapped layer (see the module docstring)."""
    s = settings.resolved(mapping.chip)
    places = mapping.layers
    arr = lambda f: np.array([f(p) for p in places], dtype=float)  # noqa: E731
    rb, cb, dup = arr(lambda p: p.row_blocks), arr(lambda p: p.column_blocks), arr(lambda p: p.duplication)
    v = arr(lambda p: p.layer.input_vectors)
    n = arr(lambda p: p.layer.weight_columns)
    rows = arr(lambda p: p.layer.weight_rows)
    ifm = arr(lambda p: p.layer.input_size[0] * p.layer.input_size[1] * p.layer.in_channels)
    first = np.zeros(len(places))
    first[0] = 1.0
    backward = 1.0 - first                        # the first layer needs no input error
    weights = arr(lambda p: p.layer.weights)
    act_bits = ifm * s.activation_bits
    err_in = v * n * s.error_bits
    grad_bits = weights * s.gradient_bits
    dram = 2.0 * (act_bits + err_in + grad_bits) if s.batch > 1 else np.zeros(len(places))
    return TrainingWork(
        names=tuple(p.layer.name for p in places),
        transposed_bit_cycles=rb * cb * v * s.error_bits * backward,
        transposed_vectors=v * backward,
        error_in_bits=err_in, error_out_bits=ifm * s.error_bits * backward,
        wg_vectors=rows, wg_rows=v, wg_columns=n * s.error_bits,
        update_rows=dup * cb * arr(lambda p: p.used_rows),
        update_cells=dup * arr(lambda p: p.used_rows * p.used_columns),
        weights=weights, activation_bits=act_bits, gradient_bits=grad_bits,
        dram_bits=dram, outer_products=v)
