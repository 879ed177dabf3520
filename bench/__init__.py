"""Parley's benchmarks: `python -m bench` (or `make bench`) prints markdown tables and writes
bench/results/latest.json. Every figure sits beside a baseline measured in the same run."""

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# The layer's code as the functions import it (`parley.*`), as pytest's pythonpath has it.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "parley")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)


@contextmanager
def environ(values: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """`values` set and `remove` unset in os.environ for the block; each as it was after."""
    saved = {key: os.environ.get(key) for key in [*values, *remove]}
    os.environ.update(values)
    for key in remove:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
