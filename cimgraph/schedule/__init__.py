"""Action counting and schedules: Mapping -> Result."""
from .activity import Activity
from .evaluate import evaluate
from .result import ComponentResult, LayerResult, Result

__all__ = ["Activity", "ComponentResult", "LayerResult", "Result", "evaluate"]
