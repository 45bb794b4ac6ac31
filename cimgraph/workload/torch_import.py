"""Import a PyTorch module as a Network with torch.fx (symbolic trace + shape propagation).

Conv2d and Linear become layers named by their module's qualified name. Pooling sets the ``pool`` factor of
the layer that produced its input (input size // output size). Activations, batch normalisation (folded into
the preceding layer's weights at inference, so no layer of its own), dropout, flatten/reshape and residual
additions pass through; so do the CNN ops of ``_cnn_op`` (concatenation, means, view/reshape/flatten, scaling
or shifting by constants, dropout, identity), which run on the digital periphery. Anything else raises
WorkloadError naming the op and the line of the model's source that called it. torch is imported here only.
"""
from __future__ import annotations

import operator
from typing import Any, Sequence

import attrs

from ..errors import WorkloadError
from . import attention_import as _attention
from .layers import Layer, Network

_PASS_MODULES = ("ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Hardtanh", "Softmax",
                 "BatchNorm1d", "BatchNorm2d", "Dropout", "Dropout2d", "Identity", "Flatten")
_POOL_MODULES = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
_PASS_METHODS = ("view", "reshape", "flatten", "relu", "relu_", "sigmoid", "tanh", "contiguous", "squeeze",
                 "add", "add_", "__add__")
_RESIDUAL_FUNCTIONS = ("add", "iadd", "relu", "flatten", "reshape", "sigmoid", "tanh", "dropout", "batch_norm",
                       "softmax", "gelu", "relu6")
_POOL_FUNCTIONS = ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d")


def _square(value: Any, what: str, where: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise WorkloadError(f"{where}: non-square {what} {tuple(value)} is not supported")
        value = value[0]
    return int(value)


def _shape(node: Any) -> tuple[int, ...]:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        raise WorkloadError(f"node {node.name!r}: no tensor shape after shape propagation")
    return tuple(int(s) for s in meta.shape)


def _layer_from_module(name: str, module: Any, in_shape: Sequence[int]) -> Layer:
    kind = type(module).__name__
    where = f"module {name!r} ({kind})"
    if kind == "Conv2d":
        if _square(module.dilation, "dilation", where) != 1:
            raise WorkloadError(f"{where}: dilated convolution is not supported")
        padding = module.padding
        kernel = _square(module.kernel_size, "kernel", where)
        if padding == "same":
            padding = (kernel - 1) // 2
        elif padding == "valid":
            padding = 0
        return Layer(name=name, kind="conv", in_channels=module.in_channels, out_channels=module.out_channels,
                     kernel=kernel, stride=_square(module.stride, "stride", where),
                     padding=_square(padding, "padding", where), groups=module.groups,
                     input_size=(in_shape[2], in_shape[3]))
    # Linear: every leading position (beyond the batch) is one input vector
    vectors = 1
    for size in in_shape[1:-1]:
        vectors *= size
    return Layer(name=name, kind="fc", in_channels=module.in_features, out_channels=module.out_features,
                 input_size=(vectors, 1))


def _target_name(target: Any) -> str:
    return getattr(target, "__name__", str(target))


def _mark_residual(node: Any, source: dict[Any, int | None], layers: list[Layer]) -> None:
    """An element-wise add of two layer outputs is a skip connection: book it on the later layer."""
    producers = [source.get(arg) for arg in node.args if hasattr(arg, "op")]
    producers = [p for p in producers if p is not None]
    if len(producers) == 2:
        later = max(producers)
        layers[later] = attrs.evolve(layers[later], residual=True)


# -- CNN ops on the digital side (issue 15): each passes its tensor input's layer through ----------------------
_CNN_FUNCTIONS = ("cat", "concat", "concatenate", "stack", "mean", "flatten", "reshape", "dropout", "dropout2d",
                  "identity", "squeeze", "unsqueeze", "permute", "transpose", "contiguous", "clone", "chunk", "split",
                  "getitem")
_CNN_METHODS = ("mean", "view", "view_as", "reshape", "flatten", "contiguous", "squeeze", "unsqueeze", "permute",
                "transpose", "clone", "chunk", "split", "expand", "expand_as", "size", "dim")
_ARITHMETIC = ("add", "add_", "iadd", "__add__", "__radd__", "sub", "sub_", "isub", "__sub__", "__rsub__", "mul",
               "mul_", "imul", "__mul__", "__rmul__", "truediv", "div", "div_", "itruediv", "__truediv__", "neg")
_CNN_MODULES = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Flatten", "Unflatten")


def source_line(node: Any) -> str:
    """Where the model's source called ``node`` ("file.py:12: code"): the innermost frame of torch.fx's
    recorded stack trace outside torch itself."""
    import os

    import torch

    inside_torch = os.path.dirname(torch.__file__)
    lines = [line.strip() for line in (getattr(node, "stack_trace", None) or "").splitlines() if line.strip()]
    found = "source line unknown"
    for index, line in enumerate(lines):
        if line.startswith("File ") and ", line " in line:
            path, _, rest = line[5:].partition(", line ")
            path = path.strip('"')
            if not path.startswith(inside_torch):
                code = lines[index + 1] if index + 1 < len(lines) and not lines[index + 1].startswith("File ") else ""
                found = f"{path}:{rest.split(',')[0]}" + (f": {code}" if code else "")
    return found


def _tensor_args(node: Any) -> list[Any]:
    """The fx nodes among a node's arguments, looking inside lists/tuples (torch.cat([a, b]))."""
    found = []
    for arg in list(node.args) + list(node.kwargs.values()):
        items = arg if isinstance(arg, (list, tuple)) else (arg,)
        found.extend(item for item in items if hasattr(item, "op"))
    return found


def _cnn_op(node: Any, op: str, source: dict[Any, int | None], layers: list[Layer]) -> bool:
    """Book a digital-side CNN op: the result carries the latest layer among its tensor inputs.

    ``mul``/``div``/``sub``/``add`` with a constant scale or shift; an element-wise add of two layer outputs
    stays a residual (``_mark_residual``). Returns False for an op this handler does not know, or a product
    of two tensors (not a CNN op; an attention or gating product needs its own handler).
    """
    if op not in _CNN_FUNCTIONS + _CNN_METHODS + _ARITHMETIC:
        return False
    inputs = _tensor_args(node)
    if op in ("mul", "mul_", "imul", "__mul__", "__rmul__", "truediv", "div", "div_", "itruediv", "__truediv__") \
            and len(inputs) > 1:
        return False
    producers = [source.get(arg) for arg in inputs if source.get(arg) is not None]
    source[node] = max(producers) if producers else None
    if op in ("add", "add_", "iadd", "__add__", "__radd__") and len(inputs) == 2:
        _mark_residual(node, source, layers)
    return True


def _global_mean(node: Any) -> bool:
    """A mean of an (N, C, H, W) tensor over its spatial dimensions: global average pooling."""
    before, after = _shape(node.args[0]), _shape(node)
    per_sample = 1
    for size in after[1:]:
        per_sample *= size
    return len(before) == 4 and before[2] * before[3] > 1 and per_sample == before[1]


def _trace(module: Any) -> Any:
    """torch.fx GraphModule of ``module`` with each node's source stack trace recorded."""
    import torch.fx

    tracer = torch.fx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(module)
    return torch.fx.GraphModule(tracer.root, graph, type(module).__name__)


def from_torch(module: Any, input_shape: Sequence[int], name: str | None = None) -> Network:
    """Trace ``module`` with torch.fx on a zero tensor of ``input_shape`` (batch first) and return its Network."""
    try:
        import torch
        import torch.fx
        from torch.fx.passes.shape_prop import ShapeProp
    except ImportError as exc:  # pragma: no cover - torch is an optional dependency
        raise WorkloadError("from_torch needs PyTorch: pip install 'cimgraph[torch]'") from exc
    try:
        graph_module = _trace(module)
    except Exception as exc:
        raise WorkloadError(f"torch.fx cannot trace {type(module).__name__}: {exc}") from None
    try:
        with torch.no_grad():
            ShapeProp(graph_module).propagate(torch.zeros(tuple(input_shape)))
    except Exception as exc:
        raise WorkloadError(f"{type(module).__name__} does not run on an input of shape {tuple(input_shape)}: "
                            f"{exc}") from None

    modules = dict(graph_module.named_modules())
    layers: list[Layer] = []
    source: dict[Any, int | None] = {}  # node -> index of the layer whose output it carries
    attention = None  # transformer graphs: attention_import handles attention, norms and token layers
    if _attention.is_transformer(graph_module.graph, modules):
        attention = _attention.Context(layers, source, _shape, _layer_from_module)

    def upstream(node: Any) -> int | None:
        for arg in node.args:
            if isinstance(arg, torch.fx.Node):
                return source.get(arg)
        return None

    def pool(node: Any, where: str) -> None:
        producer = upstream(node)
        if producer is None:
            raise WorkloadError(f"{where}: pooling before any Conv2d/Linear layer is not supported")
        in_size, out_shape = _shape(node.args[0])[2], _shape(node)
        out_size = out_shape[2] if len(out_shape) > 2 else 1
        factor = layers[producer].pool * max(1, in_size // max(1, out_size))
        layers[producer] = attrs.evolve(layers[producer], pool=factor)
        source[node] = producer

    for node in graph_module.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            source[node] = None
        elif node.op == "output":
            continue
        elif node.op == "call_module":
            sub = modules[node.target]
            kind = type(sub).__name__
            where = f"module {node.target!r} ({kind})"
            if attention and _attention.handle_module(attention, node, node.target, sub):
                continue
            if kind in ("Conv2d", "Linear"):
                layers.append(_layer_from_module(node.target, sub, _shape(node.args[0])))
                source[node] = len(layers) - 1
            elif kind in _POOL_MODULES:
                pool(node, where)
            elif kind in _PASS_MODULES or kind in _CNN_MODULES:
                source[node] = upstream(node)
            else:
                raise WorkloadError(f"{where}: unsupported module type (at {source_line(node)}); supported are "
                                    f"Conv2d, Linear, {', '.join(_POOL_MODULES + _PASS_MODULES + _CNN_MODULES)}")
        elif node.op == "call_function":
            fname = _target_name(node.target)
            if attention and _attention.handle_function(attention, node, fname):
                continue
            if node.target in (operator.add, operator.iadd) or fname in _RESIDUAL_FUNCTIONS:
                source[node] = upstream(node)
                if node.target in (operator.add, operator.iadd) or fname in ("add", "iadd"):
                    _mark_residual(node, source, layers)
            elif fname in _POOL_FUNCTIONS:
                pool(node, f"function {fname!r}")
            elif node.target is getattr or fname == "getattr":
                source[node] = None
            elif fname == "mean" and _global_mean(node):
                pool(node, f"function 'mean' at {source_line(node)}")  # global average pooling
            elif not _cnn_op(node, fname, source, layers):
                raise WorkloadError(f"node {node.name!r}: unsupported function {fname!r} at {source_line(node)}")
        elif node.op == "call_method":
            if attention and node.target not in _PASS_METHODS and _attention.handle_method(attention, node):
                continue
            if node.target in _PASS_METHODS:
                source[node] = upstream(node)
            elif node.target == "size":
                source[node] = None
            elif node.target == "mean" and _global_mean(node):
                pool(node, f"method 'mean' at {source_line(node)}")  # global average pooling
            elif not _cnn_op(node, node.target, source, layers):
                raise WorkloadError(f"node {node.name!r}: unsupported tensor method {node.target!r} "
                                    f"at {source_line(node)}")
    if not layers:
        raise WorkloadError(f"{type(module).__name__} has no Conv2d or Linear layer")
    return Network(name or type(module).__name__.lower(), tuple(layers))
