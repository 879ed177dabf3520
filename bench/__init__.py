"""Parley's benchmarks: `python -m bench` (or `make bench`) prints markdown tables and writes
bench/results/latest.json. Every figure sits beside a baseline measured in the same run."""

import sys
from pathlib import Path

# The layer's code as the functions import it (`parley.*`), as pytest's pythonpath has it.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "parley")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
