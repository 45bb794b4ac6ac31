"""Transformer workloads: the layers of a ViT or BERT-style encoder, and the bundled ``vit_tiny`` / ``bert_tiny``.

A pre-norm encoder block (Vaswani et al., NeurIPS 2017; Dosovitskiy et al., ICLR 2021) over T tokens of width
E with H heads (d = E / H) and an MLP of width M is, per image / sequence:

=========  ============  ==========================================================  =================
layer      kind          shape (Layer fields)                                        MACs
=========  ============  ==========================================================  =================
ln1        layernorm     E features, T tokens                                        --
q, k, v    linear        E -> E, T tokens                                            3 T E^2
qk         matmul        groups H, in H*d, out H*T (K^T of each head), T tokens      T^2 E
softmax    softmax       H*T features, T tokens                                      --
sv         matmul        groups H, in H*T, out H*d (V of each head), T tokens        T^2 E
out        linear        E -> E, T tokens, residual                                  T E^2
ln2        layernorm     E features                                                  --
fc1        linear        E -> M                                                      T E M
gelu       gelu          M features                                                  --
fc2        linear        M -> E, residual                                            T E M
=========  ============  ==========================================================  =================

NeuroSim V1.5 (seed 003) maps the projections (static weights) to analog CIM and the two attention products,
whose second operand changes with every sequence, to digital CIM; softmax / layer norm / GELU run on digital
function units. Embedding lookups (BERT) and the class-token / position-embedding additions move data but do
no matrix work and are not layers here.
"""
from __future__ import annotations

from ..errors import WorkloadError
from .layers import Layer, Network


def encoder_block(prefix: str, tokens: int, width: int, heads: int, mlp: int) -> list[Layer]:
    """The ten layers of one pre-norm encoder block (see the module table), named ``prefix.*``."""
    if width % heads:
        raise WorkloadError(f"{prefix}: width {width} is not a multiple of heads {heads}")
    head_dim = width // heads
    seq = (tokens, 1)

    def layer(name: str, kind: str, cin: int, cout: int, **extra) -> Layer:
        return Layer(name=f"{prefix}.{name}", kind=kind, in_channels=cin, out_channels=cout, input_size=seq,
                     **extra)

    return [
        layer("ln1", "layernorm", width, width),
        layer("q", "linear", width, width), layer("k", "linear", width, width), layer("v", "linear", width, width),
        layer("qk", "matmul", heads * head_dim, heads * tokens, groups=heads),
        layer("softmax", "softmax", heads * tokens, heads * tokens, groups=heads),
        layer("sv", "matmul", heads * tokens, heads * head_dim, groups=heads),
        layer("out", "linear", width, width, residual=True),
        layer("ln2", "layernorm", width, width),
        layer("fc1", "linear", width, mlp), layer("gelu", "gelu", mlp, mlp),
        layer("fc2", "linear", mlp, width, residual=True),
    ]


def vit(name: str = "vit", image: int = 32, patch: int = 4, channels: int = 3, width: int = 192, depth: int = 12,
        heads: int = 3, mlp: int = 768, classes: int = 10) -> Network:
    """A ViT: a patch-embedding convolution (kernel = stride = patch), a class token (tokens = patches + 1),
    ``depth`` encoder blocks, a final layer norm and a linear head on the class token."""
    if image % patch:
        raise WorkloadError(f"{name}: image {image} is not a multiple of the patch {patch}")
    tokens = (image // patch) ** 2 + 1
    layers = [Layer(name="patch_embed", kind="conv", in_channels=channels, out_channels=width, kernel=patch,
                    stride=patch, input_size=(image, image))]
    for b in range(depth):
        layers += encoder_block(f"blocks.{b}", tokens, width, heads, mlp)
    layers.append(Layer(name="norm", kind="layernorm", in_channels=width, out_channels=width,
                        input_size=(tokens, 1)))
    layers.append(Layer(name="head", kind="fc", in_channels=width, out_channels=classes))
    return Network(name, tuple(layers))


def encoder(name: str = "encoder", tokens: int = 128, width: int = 128, depth: int = 2, heads: int = 2,
            mlp: int = 512) -> Network:
    """A BERT-style encoder (post-embedding): ``depth`` blocks over ``tokens`` tokens, and the pooler."""
    layers = [Layer(name="embeddings.norm", kind="layernorm", in_channels=width, out_channels=width,
                    input_size=(tokens, 1))]
    for b in range(depth):
        layers += encoder_block(f"encoder.{b}", tokens, width, heads, mlp)
    layers.append(Layer(name="pooler", kind="fc", in_channels=width, out_channels=width))
    return Network(name, tuple(layers))


# The bundled transformers: vit_tiny = DeiT-Tiny's encoder (E 192, 12 blocks, 3 heads, MLP 768; Touvron et
# al., ICML 2021) on 32x32 CIFAR images in 4x4 patches (65 tokens); bert_tiny = BERT-tiny (2 layers, E 128,
# 2 heads, MLP 512; Turc et al., arXiv:1908.08962) on 128-token sequences.
BUILDERS = {
    "vit_tiny": lambda: vit("vit_tiny"),
    "bert_tiny": lambda: encoder("bert_tiny"),
}
