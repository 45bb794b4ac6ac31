"""Weight-gradient unit (role "wg") of DNN+NeuroSim V2 on-chip training (seed 001 sec. 4, 5.3, Fig. 15).

The weight gradients of layer n are computed in SRAM compute-in-memory arrays: the error matrix of
the layer's output (one column per output channel and error bit, one row per output position) is
written into the arrays, then the K x K x C_in unrolled activation vectors (one per kernel offset and
input channel, over the output positions) are applied bit-serially; every column's sum over the
positions is a partial weight gradient. SRAM is chosen for its fast writes and endurance, since the
error matrix is rewritten for every image (sec. 5.3). The unit is built from the same models as a
synaptic subarray: 6T SRAM arrays of ``rows`` x ``columns`` (numRowSubArrayWG / numColSubArrayWG),
WL switch matrix, row decoder and precharger for the rewrites, flash ADCs of log2(``levels``) bits
(levelOutputWG) shared by ``row_mux`` columns (numRowMuxedWG), shift-adders over the activation bits,
an adder tree across the ``arrays_rows`` row blocks, a local SRAM buffer holding one activation
slice per row block and one output row per column block, and the batch accumulators that add the B
per-image gradients into the delta weights (sec. 4; NeuroSim Chip.cpp sizes them as the subarrays
written in parallel x rows x columns adders of gradient + log2 B bits). Activities: activityRowReadWG,
activityColWriteWG (seed 001 sec. 3, Fig. 1). It is sized for the layer with the largest error
matrix and runs layer by layer (sec. 5.3); the training scheduler sets ``arrays_rows`` and
``arrays_columns``. Valid for the SRAM cell of the built-in library and arrays of 16..1024 lines.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..hookspecs import hookimpl
from ..tech.cell_library import library
from ..tech.technology import Technology
from .adc import FlashADC
from .arrays import SRAMArray
from .base import Component, Cost
from .buffers import SRAMBuffer
from .decoders import RowDecoder
from .digital import AdderTree, ShiftAddBank, clock_field, clocked, int_field, ripple_adder
from .sram_periphery import PrechargerSRAM
from .switches import WLSwitchMatrix
from ..units import quantity


def _fraction(instance, attribute, value) -> None:
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{attribute.name} must be in (0, 1], got {value!r}")


@attrs.frozen(kw_only=True)
class WeightGradientUnit(Component):
    """SRAM-CIM weight-gradient unit (see the module docstring). Actions are per array of the unit
    (the scheduler passes how many arrays work in parallel): ``load()`` rewrites one row of the error
    matrix, ``compute()`` applies one activation bit to one array and converts its columns,
    ``accumulate()`` reduces the row blocks' partial gradients once (all adder trees)."""

    kind: ClassVar[str] = "wg.sram"
    group: ClassVar[str] = "weight_gradient"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 4, 5.3, Fig. 15 and Param.cpp numRowSubArrayWG, "
                             "numColSubArrayWG, numRowMuxedWG, levelOutputWG, activity*WG (seed 001)")

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    clock: float | None = clock_field()
    input_bits: int = int_field(1, 32, 8, "activation bits applied bit-serially (injected)")
    rows: int = int_field(16, 1024, 128, "rows of one SRAM array (numRowSubArrayWG)")
    columns: int = int_field(16, 1024, 128, "columns of one SRAM array (numColSubArrayWG)")
    row_mux: int = int_field(1, 1024, 8, "columns sharing one ADC (numRowMuxedWG)")
    levels: int = int_field(2, 1024, 64, "ADC output levels (levelOutputWG)")
    arrays_rows: int = int_field(1, 1 << 16, 1, "row blocks of the error matrix (set by the training scheduler)")
    arrays_columns: int = int_field(1, 1 << 16, 1, "column blocks of the error matrix (set by the scheduler)")
    accumulators: int = int_field(0, 1 << 24, 0, "batch gradient accumulators (adders; set by the scheduler)")
    accumulator_bits: int = int_field(1, 64, 16, "bits of a batch-accumulated gradient (gradient + log2 B)")
    read_activity: float = quantity("1", default=0.5, validator=_fraction, doc="activityRowReadWG")
    write_activity: float = quantity("1", default=0.5, validator=_fraction, doc="activityColWriteWG")

    @property
    def arrays(self) -> int:
        return self.arrays_rows * self.arrays_columns

    @property
    def adc_bits(self) -> int:
        return math.ceil(math.log2(self.levels))

    # -- the parts of one array ----------------------------------------------------------
    def _cell(self):
        return next(c for c in library() if c.name == "sram.6t")

    def _array(self) -> SRAMArray:
        return SRAMArray(tech=self.tech, cell=self._cell(), rows=self.rows, columns=self.columns)

    def _context(self) -> dict:
        a = self._array()
        return dict(tech=self.tech, cell=self._cell(), rows=self.rows, columns=self.columns,
                    array_width=a.width(), array_height=a.height())

    def _periphery(self) -> tuple[Component, ...]:
        ctx = self._context()
        return (WLSwitchMatrix(**ctx), RowDecoder(**ctx),
                PrechargerSRAM(tech=self.tech, cell=ctx["cell"], rows=self.rows, columns=self.columns),
                self._adc(), self._shift_add())

    def _adc(self) -> FlashADC:
        return FlashADC(tech=self.tech, cell=self._cell(), rows=self.rows, columns=self.columns,
                        bits=self.adc_bits, share=self.row_mux)

    def _shift_add(self) -> ShiftAddBank:
        return ShiftAddBank(tech=self.tech, columns=self.columns, share=self.row_mux, adc_bits=self.adc_bits,
                            input_bits=self.input_bits, clock=self.clock)

    def _adder(self) -> AdderTree:
        return AdderTree(tech=self.tech, children=self.arrays_rows, psum_bits=self.adc_bits + self.input_bits,
                         copies=math.ceil(self.columns / self.row_mux) * self.arrays_columns, clock=self.clock)

    def local_buffer(self) -> SRAMBuffer:
        """One activation slice per row block (rows x input bits) and one output row per column block."""
        outputs = math.ceil(self.columns / self.row_mux) * (self.adc_bits + self.input_bits)
        size = self.arrays_rows * self.rows * self.input_bits + self.arrays_columns * outputs
        return SRAMBuffer(tech=self.tech, size=float(size), width=self.rows)

    def _all(self) -> tuple[Component, ...]:
        return (self._array(), *self._periphery())

    def _accumulator(self):
        """One batch-gradient accumulator: a ripple adder of ``accumulator_bits`` (seed 001 sec. 4: the B
        weight gradients of a batch are accumulated into the delta weight)."""
        return ripple_adder(self.tech, self.accumulator_bits)

    def area(self) -> float:
        per_array = sum(p.area() for p in self._all())
        return (self.arrays * per_array + self._adder().area() + self.local_buffer().area()
                + self.accumulators * self._accumulator().area)

    def leakage(self) -> float:
        per_array = sum(p.leakage() for p in self._all())
        return (self.arrays * per_array + self._adder().leakage() + self.local_buffer().leakage()
                + self.accumulators * self._accumulator().leakage)

    # -- actions -------------------------------------------------------------------------
    def load(self) -> Cost:
        """Rewrite one row of one array: decode, precharge, write (bit lines toggle with the write activity)."""
        array, (_, decoder, precharge, _, _) = self._array(), self._periphery()
        write = array.write()
        dec, pre = decoder.decode(), precharge.precharge()
        return Cost(dec.latency + pre.latency + write.latency,
                    dec.energy + pre.energy + self.write_activity * write.energy)

    def compute(self) -> Cost:
        """One activation bit on every row of one array, then ``row_mux`` conversions of its ADC bank,
        each followed by a shift-add."""
        switch, _, precharge, adc, shift_add = self._periphery()
        drive = switch.drive(input_activity=self.read_activity)
        read = self._array().read(input_activity=self.read_activity)
        pre = precharge.precharge()
        step = adc.convert() + shift_add.accumulate()
        return Cost(drive.latency + read.latency + pre.latency, drive.energy + read.energy + pre.energy) \
            + step * self.row_mux

    def accumulate(self) -> Cost:
        """All adder trees reduce the row blocks' partial gradients once."""
        return self._adder().add()

    def accumulate_batch(self) -> Cost:
        """Every batch accumulator adds one image's gradient into its delta weight once."""
        adder = self._accumulator()
        return Cost(clocked(adder.latency, self.clock), adder.energy * self.accumulators)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    """Register the weight-gradient unit."""
    registry.add_component(WeightGradientUnit)
