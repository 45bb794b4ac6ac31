"""Bundled real data and a small CNN: scikit-learn's digits (8x8, 1797 images), trained in seconds.

The digits set ships inside scikit-learn (UCI optical recognition of handwritten digits), so
nothing is downloaded at run time. Pixels are 0..16; they are scaled to 0..1. The split and the
training are seeded, so the same seed gives the same model.
"""
from __future__ import annotations

import attrs
import torch
from torch import nn

from ..errors import AccuracyError


@attrs.frozen
class Dataset:
    """Train and test tensors of one data set (images N x C x H x W, integer labels)."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    def batches(self, batch_size: int, split: str = "test", limit: int | None = None):
        """(x, y) batches of the test (or train) split; at most ``limit`` batches."""
        x, y = (self.test_x, self.test_y) if split == "test" else (self.train_x, self.train_y)
        out = [(x[i: i + batch_size], y[i: i + batch_size]) for i in range(0, len(x), batch_size)]
        return out[:limit] if limit else out


def digits(seed: int = 0, test_size: int = 500) -> Dataset:
    """scikit-learn digits as 1x8x8 images in [0, 1], a seeded train/test split."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise AccuracyError("the digits data set needs scikit-learn (pip install 'cimgraph[torch]')") from exc
    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    test, train = order[:test_size], order[test_size:]
    return Dataset("digits", x[train], y[train], x[test], y[test])


DATASETS = {"digits": digits}


def load_dataset(name: str, seed: int = 0) -> Dataset:
    if name not in DATASETS:
        from ..errors import did_you_mean

        raise AccuracyError(f"unknown data set {name!r}{did_you_mean(name, DATASETS)}; bundled: {sorted(DATASETS)}")
    return DATASETS[name](seed)


def digits_cnn() -> nn.Module:
    """Small CNN for 8x8 digits: conv 1->8, conv 8->16 (3x3), 2x2 max-pool, linear 256->10."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )


def train(model: nn.Module, data: Dataset, seed: int = 0, epochs: int = 12, batch_size: int = 64,
          lr: float = 3e-3) -> nn.Module:
    """Adam training with seeded initialisation and shuffling; returns the model in eval mode."""
    torch.manual_seed(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(data.train_x), generator=generator)
        for i in range(0, len(order), batch_size):
            pick = order[i: i + batch_size]
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.train_x[pick]), data.train_y[pick])
            loss.backward()
            optimiser.step()
    return model.eval()


def trained_digits_cnn(seed: int = 0, data: Dataset | None = None) -> tuple[nn.Module, Dataset]:
    """The bundled demo: digits data and a CNN trained on it in a few seconds (seeded)."""
    data = data or digits(seed)
    return train(digits_cnn(), data, seed), data
