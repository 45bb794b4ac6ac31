"""Models as a user would write them in their own script (no torchvision here: these follow its layout).

``resnet18``: torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2], 7x7 stem, max-pool, adaptive average pool,
``torch.flatten``, in-place residual add). ``dense_net``: a small DenseNet-like network whose blocks
concatenate their input with new features (``torch.cat``), with ``mean``, ``view``, scaling by a constant,
dropout and identity on the way.
"""
from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), num_classes: int = 10, width: int = 64):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(2 * width, layers[1], 2)
        self.layer3 = self._make_layer(4 * width, layers[2], 2)
        self.layer4 = self._make_layer(8 * width, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(num_classes: int = 10, width: int = 64) -> ResNet:
    torch.manual_seed(0)
    return ResNet((2, 2, 2, 2), num_classes, width).eval()


class DenseBlock(nn.Module):
    """DenseNet-style: each layer's new features are concatenated to its input (``torch.cat``)."""

    def __init__(self, channels: int, growth: int, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(channels + i * growth), nn.ReLU(),
                          nn.Conv2d(channels + i * growth, growth, 3, padding=1, bias=False))
            for i in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class DenseNet(nn.Module):
    """Stem conv, a dense block, a 1x1 transition with average pooling, a second dense block, a residual
    projection, a global ``mean``, ``view``, a constant scale, dropout, identity and a linear classifier."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, growth: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.block1 = DenseBlock(16, growth, 2)
        self.transition = nn.Sequential(nn.BatchNorm2d(16 + 2 * growth), nn.ReLU(),
                                        nn.Conv2d(16 + 2 * growth, 16, 1), nn.AvgPool2d(2))
        self.block2 = DenseBlock(16, growth, 2)
        self.project = nn.Conv2d(16 + 2 * growth, 32, 1)
        self.shortcut = nn.Conv2d(16 + 2 * growth, 32, 1)
        self.drop = nn.Dropout(0.1)
        self.keep = nn.Identity()
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.transition(self.block1(self.stem(x))))
        x = torch.relu(self.project(x) + self.shortcut(x))
        x = x.mean((2, 3))
        x = self.keep(self.drop(x.view(x.shape[0], -1) * 0.5 + 0.1))
        return self.fc(x)


def dense_net() -> DenseNet:
    torch.manual_seed(0)
    return DenseNet().eval()


class Gated(nn.Module):
    """A product of two activations: not a CNN op, so import must name it and its line."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 4, 3), nn.Conv2d(1, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) * torch.sigmoid(self.b(x))
