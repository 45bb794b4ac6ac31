"""Networks that ship with cimgraph (data files in cimgraph/workload/networks/).

- ``vgg8``: DNN+NeuroSim's default VGG-8 for CIFAR-10 (32x32x3), exactly the NetWork.csv of the V2 manual,
  sec. 9, Table II.
- ``resnet18``: ResNet-18 for ImageNet (224x224x3; He et al., CVPR 2016), 21 layers incl. the three 1x1
  downsample convolutions, named as the modules of ``torch_models.ResNet18``.
- ``mlp``: a 64-64-10 perceptron for scikit-learn's 8x8 handwritten digits (ships with scikit-learn, so
  accuracy runs need no download).
- ``vit_tiny``, ``bert_tiny``: transformers built by ``cimgraph.workload.transformer`` (see its BUILDERS).
"""
from __future__ import annotations

import os

from ..errors import WorkloadError, did_you_mean
from .layers import Network
from .readers import read_network
from .transformer import BUILDERS

NETWORKS_DIR = os.path.join(os.path.dirname(__file__), "networks")
BUNDLED = {"vgg8": "vgg8.csv", "resnet18": "resnet18.yaml", "mlp": "mlp.yaml", **{n: "" for n in BUILDERS}}


def bundled(name: str) -> Network:
    """The bundled network called ``name`` (one of ``BUNDLED``)."""
    if name not in BUNDLED:
        raise WorkloadError(f"no bundled network {name!r}{did_you_mean(name, BUNDLED)}; "
                            f"bundled are {', '.join(sorted(BUNDLED))}")
    if name in BUILDERS:
        return BUILDERS[name]()
    network = read_network(os.path.join(NETWORKS_DIR, BUNDLED[name]))
    return Network(name, network.layers)
