"""CimConfig: everything the accuracy model needs to know about how one layer sits on the chip.

Built by hand for tests, or by :meth:`CimConfig.from_mapping` from the very ``Mapping`` the
hardware model costs (subarray rows and row groups, cells per weight, bits per cell, precisions,
ADC bits, cell on/off states), so the accuracy and the cost halves describe the same chip.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import AccuracyError
from ..units import quantity

REFERENCES = ("dummy", "differential", "none")
SUBTRACTIONS = ("analog", "digital")
ADC_KINDS = ("linear", "nonlinear")
ADC_RANGES = ("slice", "calibrated", "full")
PROFILES = ("cimgraph", "neurosim")
ARITHMETICS = ("exact", "float32", "tf32")
CALIBRATIONS = ("max", "percentile", "entropy", "mse")
STATE_UNITS = ("S", "F", "1")


def _int_in(low: int, high: int | None = None):
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if not ok or (high is not None and value > high):
            top = f" to {high}" if high is not None else " or more"
            raise AccuracyError(f"CimConfig.{attribute.name}: expected an integer from {low}{top}, got {value!r}")
    return check


def _one_of(choices: tuple[str, ...]):
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise AccuracyError(f"CimConfig.{attribute.name}: expected one of {choices}, got {value!r}")
    return check


def _groups(value: Any) -> tuple[tuple[int, ...], ...] | None:
    if value is None:
        return None
    return tuple(tuple(int(r) for r in group) for group in value)


@attrs.frozen
class CimConfig:
    """How one layer's weight matrix is stored and read (seed 001 sec. 5.1, 5.4(6), 7; seed 003).

    ``row_groups`` lists the weight-matrix rows (torch unfold order c*k*k+kh*k+kw) read together by
    one subarray; None means consecutive blocks of ``rows``. ``adc_bits`` None is an ideal ADC.
    ``state_off``/``state_on`` are the cell's extreme states in ``state_unit`` (S for resistive
    cells, F for capacitive nvCap cells, "1" for ideal/digital cells). ``reference`` selects the
    off-current cancellation: a dummy column holding the code of weight zero (seed 001 Fig. 23),
    a differential pair of arrays, or none (digital offset correction only). ``column_groups``
    (one per row group; None = every column) lists the weight-matrix columns (output channels) the
    subarrays of that row group hold: a grouped convolution's block-diagonal placement.
    ``subtraction`` ``analog`` subtracts the reference current before the ADC, ``digital`` converts
    data and reference separately; ``adc_range`` ``slice`` calibrates one range per cell slice;
    ``error_calibration`` subtracts the calibrated mean conversion error per cycle and slice;
    ``dither`` adds a fixed subtractive per-column dither (see docs/accuracy.md). ``profile``
    ``neurosim`` reads out as NeuroSim V1.4's wrapper (:mod:`.neurosim`); ``parallel_read`` rows
    are read (and converted) at a time (NeuroSim V1.5); ``arithmetic`` is the number format the
    ``neurosim`` profile floors its partial sums in (``exact``, or NeuroSim's ``float32`` / ``tf32``).
    """

    rows: int = attrs.field(default=128, validator=_int_in(1))
    row_groups: tuple[tuple[int, ...], ...] | None = attrs.field(default=None, converter=_groups)
    column_groups: tuple[tuple[int, ...], ...] | None = attrs.field(default=None, converter=_groups)
    weight_bits: int = attrs.field(default=8, validator=_int_in(1, 16))
    input_bits: int = attrs.field(default=8, validator=_int_in(1, 16))
    bits_per_cell: int = attrs.field(default=1, validator=_int_in(1, 8))
    cells_per_weight: int | None = attrs.field(default=None)
    dac_bits: int = attrs.field(default=1, validator=_int_in(1, 16))
    adc_bits: int | None = attrs.field(default=None)
    adc: str = attrs.field(default="linear", validator=_one_of(ADC_KINDS))
    adc_range: str = attrs.field(default="slice", validator=_one_of(ADC_RANGES))
    reference: str = attrs.field(default="dummy", validator=_one_of(REFERENCES))
    subtraction: str = attrs.field(default="analog", validator=_one_of(SUBTRACTIONS))
    dither: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    error_calibration: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    state_off: float = quantity("1", default=0.0, doc="off state (S, F or normalised)")
    state_on: float = quantity("1", default=1.0, doc="on state (S, F or normalised)")
    state_unit: str = attrs.field(default="1", validator=_one_of(STATE_UNITS))
    weight_calibration: str = attrs.field(default="max", validator=_one_of(CALIBRATIONS))
    input_calibration: str = attrs.field(default="max", validator=_one_of(CALIBRATIONS))
    percentile: float = 99.99
    profile: str = attrs.field(default="cimgraph", validator=_one_of(PROFILES))
    parallel_read: int | None = attrs.field(default=None)
    arithmetic: str = attrs.field(default="exact", validator=_one_of(ARITHMETICS))

    def __attrs_post_init__(self) -> None:
        if self.cells_per_weight is None:
            object.__setattr__(self, "cells_per_weight", math.ceil(self.weight_bits / self.bits_per_cell))
        elif self.cells_per_weight * self.bits_per_cell < self.weight_bits:
            raise AccuracyError(
                f"CimConfig.cells_per_weight: {self.cells_per_weight} cells of {self.bits_per_cell} bit "
                f"cannot hold {self.weight_bits}-bit weights")
        if self.adc_bits is not None:
            _int_in(1, 16)(self, attrs.fields(CimConfig).adc_bits, self.adc_bits)
        if self.parallel_read is not None:
            _int_in(1, self.rows)(self, attrs.fields(CimConfig).parallel_read, self.parallel_read)
        if self.arithmetic != "exact" and self.profile != "neurosim":
            raise AccuracyError(f"CimConfig.arithmetic={self.arithmetic!r}: only the 'neurosim' profile emulates "
                                "NeuroSim's floating-point formats; the cimgraph profile is exact")
        if not 0.0 <= self.state_off < self.state_on:
            raise AccuracyError(
                f"CimConfig: expected 0 <= state_off < state_on, got {self.state_off!r}, {self.state_on!r}")
        if self.row_groups is not None and any(len(g) > self.rows for g in self.row_groups):
            raise AccuracyError(f"CimConfig.row_groups: a group reads more rows than the subarray's {self.rows}")
        if self.column_groups is not None and (self.row_groups is None
                                               or len(self.column_groups) != len(self.row_groups)):
            raise AccuracyError(f"CimConfig.column_groups: expected one column group per row group "
                                f"({0 if self.row_groups is None else len(self.row_groups)}), "
                                f"got {len(self.column_groups)}")

    @property
    def levels(self) -> int:
        """Programmable levels of one cell: 2^bits_per_cell."""
        return 2**self.bits_per_cell

    @property
    def on_off_ratio(self) -> float:
        return self.state_on / self.state_off if self.state_off > 0 else math.inf

    def groups_for(self, weight_rows: int) -> list[list[int]]:
        """Rows read together in one conversion, for a weight matrix of ``weight_rows`` rows.

        The subarrays' row groups (checked to cover each row once), each split into consecutive
        reads of ``parallel_read`` rows when set (NeuroSim V1.5 ``--parallel_read``, seed 003: fewer
        rows than the subarray's are activated per read, each read converted on its own).
        """
        if self.row_groups is None:
            groups = [list(range(s, min(s + self.rows, weight_rows))) for s in range(0, weight_rows, self.rows)]
        else:
            flat = sorted(r for g in self.row_groups for r in g)
            if flat != list(range(weight_rows)):
                raise AccuracyError(
                    f"CimConfig.row_groups: expected every weight row 0..{weight_rows - 1} exactly once, "
                    f"got {len(flat)} entries")
            groups = [list(g) for g in self.row_groups]
        step = self.parallel_read
        return groups if step is None else [g[i:i + step] for g in groups for i in range(0, len(g), step)]

    @classmethod
    def from_mapping(cls, mapping: Any, layer_name: str, **overrides: Any) -> "CimConfig":
        """Config of ``layer_name`` as placed by ``mapping`` (a cimgraph.mapping.Mapping).

        Reads the subarray rows and read-out, the layer's row groups (and, for a grouped
        convolution, the output channels each row group holds), the precisions, the cell
        (bits per cell, r_on/r_off or c_on/c_off) and the ADC bits from the mapped chip.
        """
        placement = next((p for p in mapping.layers if p.layer.name == layer_name), None)
        if placement is None:
            names = [p.layer.name for p in mapping.layers]
            from ..errors import did_you_mean

            raise AccuracyError(f"layer {layer_name!r} is not in the mapping{did_you_mean(layer_name, names)}")
        fields = chip_fields(mapping.chip)
        groups = [[int(r) for r in g] for g in placement.row_groups()]
        columns = None
        if getattr(placement, "scheme", "conventional") == "grouped":
            columns = [[int(c) for c in g] for g in placement.column_groups()]
        if fields["rows"] == 1:  # sequential read-out: every row is sensed on its own
            columns = None if columns is None else [c for g, c in zip(groups, columns) for _ in g]
            groups = [[r] for g in groups for r in g]
        return cls(**{**fields, "row_groups": groups, "column_groups": columns, **overrides})


def chip_fields(chip: Any) -> dict[str, Any]:
    """CimConfig fields that a ChipGraph fixes for every layer (everything but the row groups)."""
    cell = chip.cell
    array = chip.subarray
    rows = int(array.rows) if getattr(array, "readout", "parallel") == "parallel" else 1
    fields: dict[str, Any] = {
        "rows": rows,
        "weight_bits": int(chip.spec.precision.weight),
        "input_bits": int(chip.spec.precision.input),
        "bits_per_cell": int(cell.bits_per_cell),
        "cells_per_weight": int(chip.cells_per_weight),
    }
    adc = chip.find("adc") if hasattr(chip, "find") else None
    fields["adc_bits"] = int(adc.bits) if adc is not None and getattr(adc, "bits", None) else None
    reference = getattr(array, "reference", None)
    if reference in REFERENCES:
        fields["reference"] = reference
    if cell.r_on is not None and cell.r_off is not None:
        fields.update(state_off=1.0 / cell.r_off, state_on=1.0 / cell.r_on, state_unit="S")
    elif cell.c_on is not None and cell.c_off is not None:
        fields.update(state_off=float(cell.c_off), state_on=float(cell.c_on), state_unit="F")
    return fields

# CimConfig fields a user may override on the command line or in simulate_accuracy(**overrides).
CONFIG_OVERRIDES = ("rows", "weight_bits", "input_bits", "bits_per_cell", "cells_per_weight", "dac_bits", "adc_bits",
                    "adc", "adc_range", "reference", "subtraction", "dither", "error_calibration",
                    "weight_calibration", "input_calibration", "percentile", "profile", "parallel_read",
                    "arithmetic")
