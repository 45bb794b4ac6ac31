"""Samplers: the points of a study, deterministic for a seed (so a rerun asks for the same points).

- ``grid``: every combination of the axes' values (ranges take their ``steps`` values);
- ``random``: independent uniform draws (numpy's PCG64 from the seed);
- ``latin``: a Latin hypercube, ``scipy.stats.qmc.LatinHypercube`` (McKay, Beckman & Conover 1979);
- ``sobol``: a scrambled Sobol' sequence, ``scipy.stats.qmc.Sobol`` (Sobol' 1967; Owen scrambling).

A unit-cube coordinate u in [0, 1) picks an index of a discrete axis or a point of a (log) range.
``optuna`` is not a fixed list: the runner asks Optuna for points as results come back (see optimise.py).
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from .study import Axis, Study


def points(study: Study) -> list[dict[str, Any]]:
    """The study's points in order (a value per axis)."""
    axes = study.axes
    if study.sampler == "grid":
        return [dict(zip((a.name for a in axes), combo)) for combo in itertools.product(*(a.grid() for a in axes))]
    cube = unit_cube(study.sampler, len(axes), study.samples or 0, study.seed)
    return [at(axes, row) for row in cube]


def unit_cube(kind: str, dimensions: int, n: int, seed: int) -> np.ndarray:
    """``n`` points in [0, 1)^dimensions from the named sampler."""
    if kind == "random":
        return np.random.default_rng(seed).random((n, dimensions))
    from scipy.stats import qmc

    if kind == "latin":
        return qmc.LatinHypercube(d=dimensions, seed=np.random.default_rng(seed)).random(n)
    if kind == "sobol":
        engine = qmc.Sobol(d=dimensions, scramble=True, seed=np.random.default_rng(seed))
        with warnings.catch_warnings():  # balance properties need 2^m points; any n is still a valid design
            warnings.simplefilter("ignore", UserWarning)
            return engine.random(n)
    raise ValueError(f"no unit-cube sampler {kind!r}")


def at(axes: tuple[Axis, ...], row: np.ndarray) -> dict[str, Any]:
    return {axis.name: axis.at(float(u)) for axis, u in zip(axes, row)}
