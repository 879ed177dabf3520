"""CPU seconds spent by this process and its descendants, grouped by what they run.

Read from /proc (Linux), so a benchmark can say where a message's CPU goes: the gateway and
clients (this process), moto, the function workers, OpenSearch. Elsewhere it reports nothing.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process itself) or None if it is gone."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _group(pid: int, root: int) -> str:
    if pid == root:
        return "gateway and clients"
    try:
        command = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    if "worker_main.py" in command:
        return "functions"
    if "moto" in command:
        return "moto"
    if "java" in command:
        return "opensearch"
    return "other"


def snapshot() -> defaultdict[str, float]:
    """CPU seconds so far per group, for this process and every live descendant."""
    root = os.getpid()
    totals: defaultdict[str, float] = defaultdict(float)
    if not _PROC.is_dir():
        return totals
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[0]
            seconds[int(entry.name)] = stat[1]
    for pid, cpu in seconds.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            totals[_group(pid, root)] += cpu
    return totals


def per_unit_ms(
    before: Mapping[str, float], after: Mapping[str, float], units: int
) -> dict[str, float]:
    """Milliseconds of CPU per unit (a message) that each group spent between two snapshots.

    A worker that exited in between loses its seconds, so this is a lower bound.
    """
    if units <= 0:
        return {}
    spent = {group: after[group] - before.get(group, 0.0) for group in after}
    return {group: round(s * 1000 / units, 1) for group, s in sorted(spent.items()) if s > 0}
