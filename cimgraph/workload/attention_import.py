"""torch.fx handlers for transformer graphs (called by torch_import.from_torch; torch imported by the caller).

A graph is a transformer graph when it holds an ``nn.MultiheadAttention``, an ``nn.LayerNorm`` /
``layer_norm``, ``scaled_dot_product_attention`` or a matmul of two activations. In such a graph:

- ``nn.MultiheadAttention`` becomes its projections (``in_proj`` when query, key and value are one tensor,
  else ``q_proj`` / ``k_proj`` / ``v_proj``), ``qk`` (matmul), ``softmax``, ``sv`` (matmul) and
  ``out_proj``, named after the module;
- ``matmul`` / ``bmm`` / ``@`` of two activations becomes a ``matmul`` layer: shapes (B, ..., M, K) x
  (B, ..., K, N) give groups = the heads (the product of the dims between batch and M), in = heads x K,
  out = heads x N, tokens M; a product with a parameter becomes a ``linear`` layer;
- ``scaled_dot_product_attention(q, k, v)`` becomes ``qk``, ``softmax`` and ``sv``;
- softmax, layer norm and GELU (modules, functions or methods) become functional layers;
- ``nn.Linear`` on a token sequence becomes ``linear`` (tokens = the positions before the last dim);
- reshapes, transposes, splits, indexing, concatenation, scalar scaling and dropout pass their producer on.

Graphs without attention keep torch_import's CNN behaviour (softmax / GELU fold into the activation unit).
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable

import attrs

from ..errors import WorkloadError
from .layers import Layer

PASS_FUNCTIONS = ("getitem", "transpose", "permute", "mul", "truediv", "div", "cat", "dropout", "flatten",
                  "reshape", "split", "chunk", "unbind", "contiguous", "neg", "sub", "pad",
                  "stack", "unsqueeze", "squeeze", "expand", "floordiv", "pow")
PASS_METHODS = ("transpose", "permute", "view", "reshape", "contiguous", "expand", "unsqueeze", "squeeze",
                "chunk", "split", "flatten", "mul", "div", "__mul__", "__truediv__", "repeat", "type_as", "to",
                "unbind", "float", "clone")
MATMUL_NAMES = ("matmul", "bmm")


@attrs.define
class Context:
    """What the handlers share with from_torch: the layers so far and node -> producing layer index."""

    layers: list[Layer]
    source: dict[Any, int | None]
    shape: Callable[[Any], tuple[int, ...]]
    layer_from_module: Callable[[str, Any, Any], Layer]

    def producer(self, node: Any) -> int | None:
        """The layer whose output ``node`` carries: the first producing argument, lists included."""
        for arg in _flat(node.args) + _flat(list(node.kwargs.values())):
            if hasattr(arg, "op") and self.source.get(arg) is not None:
                return self.source[arg]
        return None

    def scoped(self, node: Any) -> str:
        """A function node's layer name inside its producer's module: ``blocks.0.attn.matmul``."""
        producer = self.producer(node)
        if producer is None or "." not in self.layers[producer].name:
            return node.name
        return f"{self.layers[producer].name.rsplit('.', 1)[0]}.{node.name}"

    def add(self, node: Any, layer: Layer) -> int:
        names = {l.name for l in self.layers}
        if layer.name in names:
            layer = attrs.evolve(layer, name=f"{layer.name}_{node.name}")
        self.layers.append(layer)
        self.source[node] = len(self.layers) - 1
        return self.source[node]


def _flat(values: Any) -> list[Any]:
    out = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out.extend(_flat(value))
        else:
            out.append(value)
    return out


def is_transformer(graph: Any, modules: dict[str, Any]) -> bool:
    """Whether the traced graph has attention or layer norm (see the module docstring)."""
    for node in graph.nodes:
        if node.op == "call_module" and type(modules[node.target]).__name__ in ("MultiheadAttention", "LayerNorm"):
            return True
        name = getattr(node.target, "__name__", str(node.target))
        if node.op == "call_function" and (name in ("layer_norm", "scaled_dot_product_attention")
                                           or node.target is operator.matmul or name in MATMUL_NAMES):
            return True
        if node.op == "call_method" and node.target == "matmul":
            return True
    return False


def _tokens(shape: tuple[int, ...]) -> int:
    return math.prod(shape[1:-1]) if len(shape) > 2 else 1


def _functional(ctx: Context, node: Any, kind: str, name: str) -> None:
    shape = ctx.shape(node)
    per_image = math.prod(shape[1:])
    tokens = shape[-2] if kind == "softmax" and len(shape) > 2 else _tokens(shape)
    features = per_image // tokens
    ctx.add(node, Layer(name=name, kind=kind, in_channels=features, out_channels=features,
                        groups=row_groups(kind, shape, features), input_size=(tokens, 1)))


def row_groups(kind: str, shape: tuple[int, ...], features: int) -> int:
    """Rows per token of a functional layer (``Layer.groups``): a softmax over the last dimension has
    features / that dimension rows per token (one per head), a layer norm or GELU one."""
    if kind != "softmax" or len(shape) < 2 or features % shape[-1]:
        return 1
    return features // shape[-1]


def _attention(ctx: Context, node: Any, prefix: str, heads: int, tokens: int, keys: int, width: int) -> None:
    """qk, softmax and sv layers of one attention over ``heads`` heads (query tokens x key tokens)."""
    seq = (tokens, 1)
    ctx.add(node, Layer(name=f"{prefix}qk", kind="matmul", groups=heads, in_channels=width,
                        out_channels=heads * keys, input_size=seq))
    ctx.add(node, Layer(name=f"{prefix}softmax", kind="softmax", in_channels=heads * keys, groups=heads,
                        out_channels=heads * keys, input_size=seq))
    ctx.add(node, Layer(name=f"{prefix}sv", kind="matmul", groups=heads, in_channels=heads * keys,
                        out_channels=width, input_size=seq))


def _multihead(ctx: Context, node: Any, target: str, module: Any) -> None:
    query, key, value = (list(node.args) + [node.kwargs.get(k) for k in ("query", "key", "value")])[:3]
    q_shape, k_shape = ctx.shape(query), ctx.shape(key)
    if module.batch_first:
        tokens, keys = q_shape[1], k_shape[1]
    else:
        tokens, keys = q_shape[0], k_shape[0]
    width, heads = module.embed_dim, module.num_heads
    seq = lambda n: (n, 1)  # noqa: E731
    if query is key and key is value:
        ctx.add(node, Layer(name=f"{target}.in_proj", kind="linear", in_channels=width, out_channels=3 * width,
                            input_size=seq(tokens)))
    else:
        for proj, n, cin in (("q_proj", tokens, width), ("k_proj", keys, module.kdim), ("v_proj", keys, module.vdim)):
            ctx.add(node, Layer(name=f"{target}.{proj}", kind="linear", in_channels=cin, out_channels=width,
                                input_size=seq(n)))
    _attention(ctx, node, f"{target}.", heads, tokens, keys, width)
    ctx.add(node, Layer(name=f"{target}.out_proj", kind="linear", in_channels=width, out_channels=width,
                        input_size=seq(tokens)))


def handle_module(ctx: Context, node: Any, target: str, module: Any) -> bool:
    """Transformer handling of a call_module node; False: not ours."""
    kind = type(module).__name__
    if kind == "MultiheadAttention":
        _multihead(ctx, node, target, module)
    elif kind == "LayerNorm":
        _functional(ctx, node, "layernorm", target)
    elif kind == "GELU":
        _functional(ctx, node, "gelu", target)
    elif kind == "Softmax":
        _functional(ctx, node, "softmax", target)
    elif kind == "Linear":
        layer = ctx.layer_from_module(target, module, ctx.shape(node.args[0]))
        ctx.add(node, attrs.evolve(layer, kind="linear") if layer.input_vectors > 1 else layer)
    elif kind in ("Dropout", "Identity"):
        ctx.source[node] = ctx.producer(node)
    else:
        return False
    return True


def _matmul(ctx: Context, node: Any, a: Any, b: Any) -> None:
    a_shape, b_shape = ctx.shape(a), ctx.shape(b)
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise WorkloadError(f"node {node.name!r}: matmul of a vector is not supported")
    tokens, inner, outer = a_shape[-2], a_shape[-1], b_shape[-1]
    if getattr(b, "op", None) == "get_attr":   # x @ W with a parameter: a static projection
        ctx.add(node, Layer(name=ctx.scoped(node), kind="linear", in_channels=inner, out_channels=outer,
                            input_size=(math.prod(a_shape[1:-1]), 1)))
        return
    heads = math.prod(a_shape[1:-2]) if len(a_shape) > 3 else 1
    ctx.add(node, Layer(name=ctx.scoped(node), kind="matmul", groups=heads, in_channels=heads * inner,
                        out_channels=heads * outer, input_size=(tokens, 1)))


def handle_function(ctx: Context, node: Any, name: str) -> bool:
    """Transformer handling of a call_function node; False: not ours."""
    if node.target is operator.matmul or name in MATMUL_NAMES:
        _matmul(ctx, node, node.args[0], node.args[1])
    elif name == "scaled_dot_product_attention":
        q_shape, k_shape = ctx.shape(node.args[0]), ctx.shape(node.args[1])
        heads = math.prod(q_shape[1:-2]) if len(q_shape) > 3 else 1
        _attention(ctx, node, f"{ctx.scoped(node)}.", heads, q_shape[-2], k_shape[-2], heads * q_shape[-1])
    elif name in ("softmax", "layer_norm", "gelu"):
        _functional(ctx, node, {"layer_norm": "layernorm"}.get(name, name), ctx.scoped(node))
    elif name in PASS_FUNCTIONS:
        ctx.source[node] = ctx.producer(node)
    else:
        return False
    return True


def handle_method(ctx: Context, node: Any) -> bool:
    """Transformer handling of a call_method node; False: not ours."""
    if node.target == "matmul":
        _matmul(ctx, node, node.args[0], node.args[1])
    elif node.target == "softmax":
        _functional(ctx, node, "softmax", ctx.scoped(node))
    elif node.target in PASS_METHODS:
        ctx.source[node] = ctx.producer(node)
    else:
        return False
    return True
