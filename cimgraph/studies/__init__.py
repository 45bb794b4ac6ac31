"""Case studies that reproduce published comparisons (run as ``python -m cimgraph.studies.<name>``)."""
