"""A user's data module for `cimgraph accuracy --data user_model_data:digit_batches` (tests)."""
from __future__ import annotations

from torch.utils.data import DataLoader, TensorDataset

from cimgraph.accuracy.data import digits


def digit_batches() -> DataLoader:
    data = digits(seed=0)
    return DataLoader(TensorDataset(data.test_x[:40], data.test_y[:40]), batch_size=20)
