"""Off-chip DRAM (role "dram") for on-chip training with a mini-batch (DNN+NeuroSim V2, seed 001 sec. 4).

With batch size B, the B copies of every layer's activations, errors and weight gradients do not fit on
chip; they are sent to off-chip DRAM and read back for the weight-gradient computation (seed 001 sec. 4,
[3] = M. O'Connor et al., "Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth Systems",
MICRO 2017). The DRAM is modelled as that paper characterises it: an interface energy per bit moved
(activation + I/O + on-die data movement; O'Connor et al. Fig. 1/Table 1: HBM2 3.9 pJ/bit, GDDR5
14 pJ/bit), a peak bandwidth (HBM2: 1024 pins x 2 Gb/s per stack, JEDEC JESD235A; GDDR5: 32 pins x
8 Gb/s per device, JEDEC JESD212C) and a first-access latency (tRCD + CL, about 30 ns for both
generations). transfer() moves one ``width``-bit access at the streaming rate; the scheduler adds
the first-access latency once per stream. The DRAM is off chip: no chip area and no chip leakage.
Valid for bandwidth-bound streaming (long sequential transfers), not for random access.
"""
from __future__ import annotations

from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..units import int_range, positive, quantity
from .base import Component, Cost

O_CONNOR = ("O'Connor et al., MICRO 2017 (Fine-Grained DRAM) energy/bit, cited by DNN+NeuroSim V2 manual "
            "sec. 4 [3] (seed 001)")


@attrs.frozen(kw_only=True)
class _DRAM(Component):
    """Streaming DRAM interface: energy per bit, bandwidth, first-access latency."""

    group: ClassVar[str] = "dram"
    default_energy: ClassVar[float] = 0.0
    default_bandwidth: ClassVar[float] = 0.0   # bit/s of one stack / device

    devices: int = attrs.field(default=4, validator=int_range(1, 64),
                               metadata={"doc": "stacks (HBM2) or devices (GDDR5) in parallel"})
    energy_per_bit: float | None = quantity("J", default=None, doc="interface energy per bit moved (default: "
                                            "the kind's published figure)")
    bandwidth: float | None = quantity("bit/s", default=None, doc="peak bandwidth of all devices (default: "
                                       "devices x the kind's per-device rate)")
    latency: float = quantity("s", default=30e-9, validator=positive, doc="first-access latency (tRCD + CL)")
    width: int = attrs.field(default=256, validator=int_range(1, 1 << 16),
                             metadata={"doc": "bits per access (32-byte access granularity)"})

    @property
    def bit_energy(self) -> float:
        return self.energy_per_bit if self.energy_per_bit is not None else self.default_energy

    @property
    def rate(self) -> float:
        return self.bandwidth if self.bandwidth is not None else self.devices * self.default_bandwidth

    def area(self) -> float:
        """Off chip: no area on the CIM chip."""
        return 0.0

    def leakage(self) -> float:
        """Off chip: DRAM background power is not part of the CIM chip's leakage (as in NeuroSim)."""
        return 0.0

    def transfer(self) -> Cost:
        """Move one ``width``-bit access at the streaming rate: width / bandwidth, width x energy/bit."""
        return Cost(self.width / self.rate, self.width * self.bit_energy)


@attrs.frozen(kw_only=True)
class HBM2(_DRAM):
    """HBM2 stacks: 3.9 pJ/bit (O'Connor et al. 2017), 2.048 Tb/s per stack (JESD235A: 1024 x 2 Gb/s)."""

    kind: ClassVar[str] = "dram.hbm2"
    source: ClassVar[str] = O_CONNOR + "; JEDEC JESD235A (1024 pins x 2 Gb/s per stack)"
    default_energy: ClassVar[float] = 3.9e-12
    default_bandwidth: ClassVar[float] = 1024 * 2e9


@attrs.frozen(kw_only=True)
class GDDR5(_DRAM):
    """GDDR5 devices: 14 pJ/bit (O'Connor et al. 2017), 256 Gb/s per device (JESD212C: 32 x 8 Gb/s)."""

    kind: ClassVar[str] = "dram.gddr5"
    source: ClassVar[str] = O_CONNOR + "; JEDEC JESD212C (32 pins x 8 Gb/s per device)"
    default_energy: ClassVar[float] = 14e-12
    default_bandwidth: ClassVar[float] = 32 * 8e9
    devices: int = attrs.field(default=12, validator=int_range(1, 64),
                               metadata={"doc": "devices in parallel (12 = a 384-bit interface)"})


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    """Register the DRAM kinds."""
    for cls in (HBM2, GDDR5):
        registry.add_component(cls)
