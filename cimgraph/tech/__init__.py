"""Technology nodes and memory cells (data with named sources)."""
from .technology import Technology, WireLayer
from .cells import MemoryCell

__all__ = ["Technology", "WireLayer", "MemoryCell"]
