"""Layer and Network: the shapes a mapper needs from a neural network.

A fully-connected layer is a 1x1 convolution on a 1x1 input (DNN+NeuroSim V2 manual, sec. 9 Table II), so one
class describes both. Transformer layers (NeuroSim V1.5, seed 003) reuse the same shape fields with the token
sequence as the input rows (``input_size`` = (tokens, 1)): see docs/transformers.md and :data:`KIND_ROLES`. The weight matrix of a layer is its kernels unrolled in torch's ``unfold`` order:
row ``c*k*k + kh*k + kw`` (input channel ``c`` of the group, kernel position ``kh, kw``), one column per output
channel.
"""
from __future__ import annotations

from typing import Iterator

import attrs

from ..errors import WorkloadError

# What each layer kind is and what runs it:
# - static: a weight matrix programmed once (conv, fc, and ``linear``: a projection applied to every token);
# - dynamic: an activation x activation product (``matmul``: Q K^T or S V); its "weight" operand (K^T or V of
#   each head) is written into the array for every sequence. ``groups`` = heads, ``in_channels`` = heads x the
#   inner dimension, ``out_channels`` = heads x the outer one: a block-diagonal matrix, one block per head;
# - functional: element-wise / row-wise operations without weights (softmax, layer norm, GELU) over
#   ``in_channels`` (= ``out_channels``) features of each token.
KIND_ROLES = {"conv": "static", "fc": "static", "linear": "static", "matmul": "dynamic",
              "softmax": "functional", "layernorm": "functional", "gelu": "functional"}
KINDS = tuple(KIND_ROLES)


def _positive(name: str, value: int, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WorkloadError(f"{where}: {name} must be a positive integer, got {value!r}")


@attrs.frozen
class Layer:
    """One convolutional or fully-connected layer.

    ``input_size`` is the (H, W) of the input feature map before padding; ``pool`` is the down-sampling factor
    of the pooling that follows the layer (1 = none), so the next layer sees ``pooled_size``. ``residual``:
    the layer's output is added element-wise to an earlier activation (a skip connection) before pooling.
    """

    name: str
    kind: str
    in_channels: int
    out_channels: int
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    input_size: tuple[int, int] = attrs.field(default=(1, 1), converter=lambda v: tuple(int(x) for x in v))
    pool: int = 1
    residual: bool = False

    def __attrs_post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if not isinstance(self.residual, bool):
            raise WorkloadError(f"{where}: residual must be true or false, got {self.residual!r}")
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"layer name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise WorkloadError(f"{where}: kind must be one of {KINDS}, got {self.kind!r}")
        for field in ("in_channels", "out_channels", "kernel", "stride", "groups", "pool"):
            _positive(field, getattr(self, field), where)
        if isinstance(self.padding, bool) or not isinstance(self.padding, int) or self.padding < 0:
            raise WorkloadError(f"{where}: padding must be a non-negative integer, got {self.padding!r}")
        if len(self.input_size) != 2 or min(self.input_size) < 1:
            raise WorkloadError(f"{where}: input_size must be two positive integers (H, W), got {self.input_size!r}")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise WorkloadError(f"{where}: groups={self.groups} must divide in_channels={self.in_channels} "
                                f"and out_channels={self.out_channels}")
        height, width = self.output_size
        if height < 1 or width < 1:
            raise WorkloadError(f"{where}: kernel {self.kernel} with padding {self.padding} does not fit the "
                                f"input {self.input_size[0]}x{self.input_size[1]}")
        if self.pool > min(height, width):
            raise WorkloadError(f"{where}: pooling factor {self.pool} exceeds the output {height}x{width}")
        if self.role != "static" and self.kernel != 1:
            raise WorkloadError(f"{where}: a {self.kind} layer has kernel 1, got {self.kernel}")
        if self.role == "functional" and self.in_channels != self.out_channels:
            raise WorkloadError(f"{where}: a {self.kind} layer keeps its features (in_channels == out_channels), "
                                f"got {self.in_channels} -> {self.out_channels}")

    @property
    def role(self) -> str:
        """static (programmed weights) | dynamic (activation x activation) | functional (no matrix)."""
        return KIND_ROLES[self.kind]

    @property
    def output_size(self) -> tuple[int, int]:
        """(H, W) of the layer output before pooling: floor((size + 2 padding - kernel) / stride) + 1."""
        return tuple((size + 2 * self.padding - self.kernel) // self.stride + 1 for size in self.input_size)

    @property
    def pooled_size(self) -> tuple[int, int]:
        """(H, W) after the pooling that follows the layer (floor division, as torch pools by default)."""
        return tuple(size // self.pool for size in self.output_size)

    @property
    def weight_rows(self) -> int:
        """Rows of the unrolled weight matrix: in_channels / groups * kernel^2."""
        return self.in_channels // self.groups * self.kernel * self.kernel

    @property
    def weight_columns(self) -> int:
        """Columns of the weight matrix: one per output channel (before cells per weight)."""
        return self.out_channels

    @property
    def weights(self) -> int:
        """Entries of the matrix the arrays hold (not structurally zero); for a ``matmul`` layer the
        dynamic operand of all heads; 0 for functional layers."""
        return 0 if self.role == "functional" else self.weight_rows * self.weight_columns

    @property
    def parameters(self) -> int:
        """Trained parameters held in the arrays (static layers' weights; dynamic operands excluded)."""
        return self.weights if self.role == "static" else 0

    @property
    def elements(self) -> int:
        """Output values per image (positions x output channels) before pooling."""
        return self.input_vectors * self.out_channels

    @property
    def input_vectors(self) -> int:
        """Input vectors presented to the weight matrix per image: H_out * W_out (sliding-window positions)."""
        height, width = self.output_size
        return height * width

    @property
    def macs(self) -> int:
        """Multiply-accumulates per image (0 for functional layers)."""
        return self.weights * self.input_vectors


@attrs.frozen
class Network:
    """A named sequence of layers (in execution order; names unique).

    ``pace``: the fewest input vectors per image of a convolution in the pipeline this network is part of
    (its slowest unavoidable stage, which bounds every layer's useful copies); None: from its own layers.
    A hybrid chip maps each tile design's layers as a sub-network of the whole one, which keeps its pace.
    """

    name: str
    layers: tuple[Layer, ...] = attrs.field(converter=tuple)
    pace: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not self.layers:
            raise WorkloadError(f"network {self.name!r} has no layers")
        seen: set[str] = set()
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise WorkloadError(f"network {self.name!r}: expected Layer objects, got {type(layer).__name__}")
            if layer.name in seen:
                raise WorkloadError(f"network {self.name!r}: layer name {layer.name!r} is used twice")
            seen.add(layer.name)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        from ..errors import did_you_mean
        raise WorkloadError(f"network {self.name!r} has no layer {name!r}"
                            f"{did_you_mean(name, [l.name for l in self.layers])}")

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def parameters(self) -> int:
        """Trained weights of the static layers (what a parameter count of the model means)."""
        return sum(layer.parameters for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)
