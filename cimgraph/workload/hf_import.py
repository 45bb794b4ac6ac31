"""Import any eager PyTorch model, HuggingFace ``transformers`` ones included, by recording its torch calls.

HuggingFace models do not trace with torch.fx any more (transformers 5 dropped ``transformers.utils.fx``;
``torch.fx.symbolic_trace`` stops at their Python control flow), so :func:`from_eager` runs the model once on
an example input under a ``torch.overrides.TorchFunctionMode`` and records, in execution order:

- ``F.linear`` -> a ``linear`` layer over the tokens (``fc`` for one vector), named after its weight's module;
- ``F.conv2d`` -> a ``conv`` layer (e.g. a ViT patch embedding);
- ``matmul`` / ``bmm`` / ``@`` of two activations -> a ``matmul`` layer (heads = the dims between batch and
  the rows); ``scaled_dot_product_attention`` -> ``qk``, ``softmax`` and ``sv``;
- ``softmax``, ``layer_norm``, ``gelu`` -> functional layers.

Embedding lookups, element-wise arithmetic and reshapes do no matrix work and are left out. Skip
connections are detected as the fx import detects them (``torch_import._mark_residual``): every tensor
remembers the layer whose output it carries (a recorded call's output that layer, any other op's output
its first tensor argument's), and an add of two layer outputs sets ``residual`` on the later layer.
:func:`bert_from_config` / :func:`vit_from_config`
build a HuggingFace model with random weights from a config, never downloading anything (the optional
extra ``pip install 'cimgraph[hf]'``).
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import WorkloadError
from .layers import Layer, Network



def _name(func: Any) -> str:
    return getattr(func, "__name__", str(func)).lstrip("_").replace("__", "")


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


ADDS = {"add", "iadd", "add_", "radd"}


class _Recorder:
    def __init__(self, model: Any):
        self.params = {id(p): n.rsplit(".", 1)[0] for n, p in model.named_parameters()}
        self.layers: list[Layer] = []
        self.scope = "model"
        self.counts: dict[str, int] = {}
        self.carries: dict[int, tuple[Any, int]] = {}   # id(tensor) -> (tensor, index of its layer)

    def source(self, value: Any) -> int | None:
        """Index of the layer whose output ``value`` carries (None: none, or not a tensor)."""
        entry = self.carries.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else None

    def track(self, name: str, args: list[Any], out: Any, before: int) -> None:
        """Book ``out``'s producer after a call named ``name`` that left ``before`` layers recorded; an add of
        two layer outputs is a skip connection on the later layer (as torch_import._mark_residual)."""
        import torch

        flat = [v for a in args for v in (a if isinstance(a, (tuple, list)) else (a,))]   # torch.cat's list
        tensors = [a for a in flat if isinstance(a, torch.Tensor)]
        if len(self.layers) > before:
            index: int | None = len(self.layers) - 1
        else:
            index = next((self.source(t) for t in tensors if self.source(t) is not None), None)
            producers = [p for p in (self.source(t) for t in tensors[:2]) if p is not None]
            if name in ADDS and len(producers) == 2 and producers[0] != producers[1]:
                later = max(producers)
                self.layers[later] = attrs.evolve(self.layers[later], residual=True)
        if index is None:
            return
        for value in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(value, torch.Tensor):
                self.carries[id(value)] = (value, index)

    def _unique(self, base: str) -> str:
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def add(self, kind: str, base: str, **fields: Any) -> None:
        self.layers.append(Layer(name=self._unique(base), kind=kind, **fields))

    def linear(self, x: Any, weight: Any) -> None:
        self.scope = self.params.get(id(weight), self.scope)
        shape = _shape(x)
        tokens = math.prod(shape[1:-1]) if len(shape) > 2 else 1
        out, cin = _shape(weight)
        self.add("linear" if tokens > 1 else "fc", self.scope, in_channels=cin, out_channels=out,
                 input_size=(tokens, 1))

    def conv(self, x: Any, weight: Any, stride: Any, padding: Any, groups: int) -> None:
        self.scope = self.params.get(id(weight), self.scope)
        out, cin_g, k, _ = _shape(weight)
        first = lambda v: int(v[0] if isinstance(v, (tuple, list)) else v)  # noqa: E731
        self.add("conv", self.scope, in_channels=cin_g * groups, out_channels=out, kernel=k, stride=first(stride),
                 padding=first(padding) if not isinstance(padding, str) else (k - 1) // 2 if padding == "same" else 0,
                 groups=groups, input_size=_shape(x)[2:4])

    def matmul(self, a: Any, b: Any) -> None:
        sa, sb = _shape(a), _shape(b)
        if len(sa) < 2 or len(sb) < 2:
            return
        if id(b) in self.params:   # x @ W: a static projection
            self.add("linear", self.params[id(b)], in_channels=sa[-1], out_channels=sb[-1],
                     input_size=(math.prod(sa[1:-1]), 1))
            return
        heads = math.prod(sa[1:-2]) if len(sa) > 3 else 1
        self.add("matmul", f"{self._parent()}.matmul", groups=heads, in_channels=heads * sa[-1],
                 out_channels=heads * sb[-1], input_size=(sa[-2], 1))

    def functional(self, kind: str, x: Any) -> None:
        from .attention_import import row_groups

        shape = _shape(x)
        tokens = (shape[-2] if kind == "softmax" else math.prod(shape[1:-1])) if len(shape) > 2 else 1
        features = math.prod(shape[1:]) // tokens
        self.add(kind, f"{self._parent()}.{kind}", in_channels=features, out_channels=features,
                 groups=row_groups(kind, shape, features), input_size=(tokens, 1))

    def attention(self, q: Any, k: Any) -> None:
        sq, sk = _shape(q), _shape(k)
        heads = math.prod(sq[1:-2]) if len(sq) > 3 else 1
        prefix = self._parent()
        seq = (sq[-2], 1)
        self.add("matmul", f"{prefix}.qk", groups=heads, in_channels=heads * sq[-1], out_channels=heads * sk[-2],
                 input_size=seq)
        self.add("softmax", f"{prefix}.softmax", in_channels=heads * sk[-2], out_channels=heads * sk[-2],
                 groups=heads, input_size=seq)
        self.add("matmul", f"{prefix}.sv", groups=heads, in_channels=heads * sk[-2], out_channels=heads * sq[-1],
                 input_size=seq)

    def _parent(self) -> str:
        return self.scope.rsplit(".", 1)[0] if "." in self.scope else self.scope


def from_eager(model: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Network:
    """Run ``model(*args, **kwargs)`` once under no_grad and return the Network of the torch calls it made."""
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    recorder = _Recorder(model)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, fargs=(), fkwargs=None):
            fkwargs = fkwargs or {}
            fname = _name(func)
            a = list(fargs) + list(fkwargs.values())
            before = len(recorder.layers)
            if func is F.linear:
                recorder.linear(a[0], fkwargs.get("weight", a[1]))
            elif func in (F.conv2d, torch.conv2d):
                get = lambda i, key, default: fkwargs.get(key, fargs[i] if len(fargs) > i else default)  # noqa
                recorder.conv(a[0], get(1, "weight", None), get(3, "stride", 1), get(4, "padding", 0),
                              get(6, "groups", 1))
            elif fname in ("matmul", "bmm", "rmatmul") and len(fargs) >= 2:
                recorder.matmul(*(fargs[::-1] if fname == "rmatmul" else fargs[:2]))
            elif fname == "scaled_dot_product_attention":
                recorder.attention(a[0], a[1])
            elif fname in ("softmax", "layer_norm", "gelu"):
                recorder.functional({"layer_norm": "layernorm"}.get(fname, fname), a[0])
            out = func(*fargs, **fkwargs)   # the mode is off inside its own handler
            recorder.track(fname, a, out, before)
            return out

    model.eval()
    try:
        with torch.no_grad(), Mode():
            model(*args, **kwargs)
    except WorkloadError:
        raise
    except Exception as exc:
        raise WorkloadError(f"{type(model).__name__} did not run on the example input: "
                            f"{type(exc).__name__}: {exc}") from None
    if not recorder.layers:
        raise WorkloadError(f"{type(model).__name__} made no linear, convolution or matmul calls")
    return Network(name or type(model).__name__.lower(), tuple(recorder.layers))


def _transformers():
    try:
        import transformers
    except ImportError as exc:
        raise WorkloadError("HuggingFace import needs transformers: pip install 'cimgraph[hf]'") from exc
    return transformers


def bert_from_config(tokens: int = 128, name: str = "hf_bert", **config: Any) -> Network:
    """A BertModel with random weights from ``BertConfig(**config)`` (defaults: BERT-tiny, 2 x 128, 2 heads,
    MLP 512), imported on a ``tokens``-long sequence. Nothing is downloaded."""
    import torch

    tf = _transformers()
    settings = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512,
                    vocab_size=30522, max_position_embeddings=max(512, tokens), attn_implementation="eager")
    settings.update(config)
    model = tf.BertModel(tf.BertConfig(**settings))
    return from_eager(model, torch.zeros(1, tokens, dtype=torch.long), name=name)


def vit_from_config(name: str = "hf_vit", **config: Any) -> Network:
    """A ViTModel with random weights from ``ViTConfig(**config)`` (defaults: CIFAR-size 32x32 images in 4x4
    patches, width 192, 12 blocks, 3 heads, MLP 768). Nothing is downloaded."""
    import torch

    tf = _transformers()
    settings = dict(image_size=32, patch_size=4, hidden_size=192, num_hidden_layers=12, num_attention_heads=3,
                    intermediate_size=768, attn_implementation="eager")
    settings.update(config)
    cfg = tf.ViTConfig(**settings)
    model = tf.ViTModel(cfg, add_pooling_layer=False)
    return from_eager(model, torch.zeros(1, cfg.num_channels, cfg.image_size, cfg.image_size), name=name)
