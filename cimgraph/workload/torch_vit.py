"""PyTorch transformers matching the bundled ``vit_tiny`` layout (import only with torch installed).

``ViT`` writes attention by hand (Linear q/k/v, ``@``, softmax, ``layer_norm``), so torch.fx sees every
operation and the same modules run through the accuracy simulation; ``MHAEncoder`` uses
``nn.MultiheadAttention`` (an fx leaf module) for the import of library attention.
"""
from __future__ import annotations

import torch
from torch import nn


class MatMul(nn.Module):
    """``a @ b`` as a module, so the accuracy simulation can run it as a digital-CIM product
    (cimgraph.accuracy.transformer); torch.fx traces through it to the matmul."""

    def forward(self, a, b):
        return a @ b


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, (width // heads) ** -0.5
        self.q, self.k, self.v = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.qk, self.sv, self.softmax = MatMul(), MatMul(), nn.Softmax(dim=-1)
        self.out = nn.Linear(width, width)

    def forward(self, x):
        b, t, e = x.shape
        h = self.heads
        q = self.q(x).reshape(b, t, h, e // h).transpose(1, 2)
        k = self.k(x).reshape(b, t, h, e // h).transpose(1, 2)
        v = self.v(x).reshape(b, t, h, e // h).transpose(1, 2)
        attn = self.softmax(self.qk(q, k.transpose(-2, -1)) * self.scale)
        return self.out(self.sv(attn, v).transpose(1, 2).reshape(b, t, e))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, mlp: int):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(width), Attention(width, heads)
        self.ln2, self.fc1, self.gelu, self.fc2 = nn.LayerNorm(width), nn.Linear(width, mlp), nn.GELU(), \
            nn.Linear(mlp, width)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(self.gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    """Patch embedding (Conv2d, kernel = stride = patch), class token, position embedding, pre-norm blocks,
    final LayerNorm and a Linear head on the class token (Dosovitskiy et al., ICLR 2021)."""

    def __init__(self, image: int = 32, patch: int = 4, channels: int = 3, width: int = 192, depth: int = 12,
                 heads: int = 3, mlp: int = 768, classes: int = 10):
        super().__init__()
        tokens = (image // patch) ** 2 + 1
        self.patch_embed = nn.Conv2d(channels, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, tokens, width))
        self.blocks = nn.Sequential(*(Block(width, heads, mlp) for _ in range(depth)))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Class token 0, position embedding N(0, 0.02^2) (re-drawn by seeded training loops)."""
        nn.init.zeros_(self.cls)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class MHAEncoder(nn.Module):
    """Pre-norm encoder blocks with ``nn.MultiheadAttention`` over token inputs (B, T, E)."""

    def __init__(self, width: int = 64, heads: int = 4, mlp: int = 128, depth: int = 1):
        super().__init__()
        self.ln = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
        self.attn = nn.ModuleList(nn.MultiheadAttention(width, heads, batch_first=True) for _ in range(depth))
        self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Linear(mlp, width))
                                 for _ in range(depth))

    def forward(self, x):
        for ln, attn, mlp in zip(self.ln, self.attn, self.mlp):
            y = ln(x)
            x = x + attn(y, y, y, need_weights=False)[0]
            x = x + mlp(x)
        return x
