"""Non-dominated sorting (Deb, Pratap, Agarwal & Meyarivan 2002, NSGA-II, sec. III-A), vectorised.

A point dominates another when it is no worse in every objective and better in at least one. Front 0
is the Pareto set; front k is the Pareto set once fronts 0..k-1 are removed.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True if ``a`` dominates ``b`` (all objectives minimised)."""
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated(values: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Mask of the rows of ``values`` (n x m, minimised) that no other row dominates (chunked: O(chunk n m) memory)."""
    values = np.asarray(values, dtype=float)
    keep = np.ones(len(values), dtype=bool)
    for start in range(0, len(values), chunk):
        block = values[start:start + chunk]
        le = np.all(values[None, :, :] <= block[:, None, :], axis=2)   # [i, j]: j no worse than i
        lt = np.any(values[None, :, :] < block[:, None, :], axis=2)
        keep[start:start + chunk] = ~np.any(le & lt, axis=1)
    return keep


def fronts(values: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Front index of each row of ``values`` (n points x m objectives, all minimised). With ``limit``,
    peeling stops once that many points are ranked; the rest share the next front index."""
    values = np.asarray(values, dtype=float)
    rank = np.full(len(values), -1)
    front = 0
    left = np.arange(len(values))
    while left.size and (limit is None or np.count_nonzero(rank >= 0) < limit):
        best = non_dominated(values[left])
        rank[left[best]] = front
        left = left[~best]
        front += 1
    rank[left] = front
    return rank


def objective_matrix(rows: Sequence[dict[str, Any]], objectives: Sequence[Sequence[str]]) -> np.ndarray:
    """The rows' objectives as a minimisation matrix (maximised metrics negated)."""
    return np.array([[row["metrics"][name] * (-1.0 if sense == "max" else 1.0) for name, sense in objectives]
                     for row in rows], dtype=float).reshape(len(rows), len(objectives))


def ranked(rows: Sequence[dict[str, Any]], objectives: Sequence[Sequence[str]],
           limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Feasible rows with their front, best first (front, then the first objective, then sample order)."""
    ok = [row for row in rows if row["status"] == "ok"]
    if not ok:
        return []
    matrix = objective_matrix(ok, objectives)
    rank = fronts(matrix, limit)
    order = sorted(range(len(ok)), key=lambda i: (rank[i], matrix[i, 0], ok[i]["seq"]))
    return [(int(rank[i]), ok[i]) for i in order]
