"""Validation of `cimgraph accuracy` options before any model is trained or data loaded.

Every option error (an unknown effect, a value out of range, ``--batches 0``, a device this torch
build cannot use) is raised here, in milliseconds, instead of after a training run.
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import AccuracyError, brief


def option_value(key: str, text: str) -> Any:
    """A NAME=VALUE option's value: an int, a finite float (``1e-2`` included) or the text itself."""
    stripped = text.strip()
    for kind in (int, float):
        try:
            value = kind(stripped)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise AccuracyError(f"--option {key}={brief(text)}: expected a finite number")
        return value
    return stripped


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["variation=0.1", "adc_bits=4"]`` -> ``{"variation": 0.1, "adc_bits": 4}``; a repeated name is an error."""
    from ..safe_yaml import assignments

    pairs = assignments(items, "--option", "NAME=VALUE, e.g. variation=0.1 or adc_bits=4", AccuracyError)
    return {key: option_value(key, value) for key, value in pairs}


def check_device(device: str) -> str:
    """``device`` if this torch build can run on it, else AccuracyError saying what is available."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise AccuracyError(f"--device {brief(device)}: not a torch device; expected cpu, cuda or cuda:N") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise AccuracyError(f"--device {device}: this torch build has no usable CUDA device "
                                f"(torch {torch.__version__}); use --device cpu")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise AccuracyError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) present")
    elif parsed.type != "cpu":
        raise AccuracyError(f"--device {device}: only cpu and cuda devices are supported")
    return device


def check_options(options: dict[str, Any], batches: int | None, device: str, seed: int = 0,
                  netlist: str | None = None) -> None:
    """Validate everything `cimgraph accuracy` was given (the netlist loaded, each effect and the
    config overrides built once), so that a bad value fails before the model is trained."""
    from .config import CimConfig
    from .effects import make_effects
    from .run import effect_options

    if batches is not None and (isinstance(batches, bool) or not isinstance(batches, int) or batches < 1):
        raise AccuracyError(f"--batches {batches!r}: expected a positive number of test batches")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise AccuracyError(f"--seed {brief(seed)}: expected an integer from 0 to 2^63 - 1")
    check_device(device)
    if netlist is not None:
        from ..netlist import load_netlist

        load_netlist(netlist)
    effects, overrides = effect_options(options)
    for name, value in effects.items():
        try:
            make_effects({name: value})
        except AccuracyError:
            raise
        except Exception as exc:  # a plugin's effect class: name it instead of a traceback
            from ..plugins import default_registry

            entry = default_registry().accuracy_effects.get(name)
            who = f" (plugin {entry.plugin})" if entry else ""
            raise AccuracyError(f"--option {name}={brief(value)}: the effect{who} refused it: "
                                f"{type(exc).__name__}: {brief(str(exc), 200)}") from None
    try:
        CimConfig(**overrides)
    except AccuracyError:
        raise
    except (TypeError, ValueError) as exc:
        raise AccuracyError(f"--option: {exc}") from None
