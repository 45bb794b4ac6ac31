"""Netlist files -> validated spec -> ChipGraph."""
from .graph import ChipGraph, build_chip
from .loader import load_netlist
from .schema import NetlistSpec, validate

__all__ = ["ChipGraph", "NetlistSpec", "build_chip", "load_netlist", "validate"]
