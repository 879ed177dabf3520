"""`python -m bench`: run the benchmarks, print markdown tables, write the results as JSON.

python -m bench                  # everything (make bench), under ten minutes
python -m bench --quick          # a short delivery run and fewer cold starts
python -m bench --only fanout    # one benchmark (repeatable)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    coldstart,
    cost,
    delivery,
    fanout,
    fanout_large,
    imports,
    retention,
    scheduled,
    search,
    slack,
    transport,
    web,
)

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
NAMES = (
    "coldStart",
    "fanout",
    "fanoutLarge",
    "delivery",
    "cost",
    "search",
    "slack",
    "transport",
    "import",
    "scheduled",
    "retention",
    "web",
)


def _scale(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each benchmark's arguments: full, --quick, or --tiny (what the unit tests run)."""
    if args.tiny:
        return {
            "coldStart": {"runs": 1, "warm": False},
            "fanout": {"members": (2, 120), "workspace_connections": (10, 40), "repeats": 1},
            "fanoutLarge": {
                "live": (300,),
                "members": 600,
                "consumers": 2,
                "threshold": 100,
                "max_posts_per_s": 600,
            },
            "delivery": delivery.Plan(clients=6, channels=2, rate_per_s=10, seconds=1).kwargs(),
            "cost": {"repeats": 2},
            "search": {"messages": 200, "lag_samples": 2, "queries": 10},
            "slack": {"members": 3, "rounds": 4},
            "transport": {"calls": 3, "rounds": 2, "runs": 1},
            "import": {"messages": 400, "days": 2},
            "scheduled": {"count": 10, "channels": 2, "spread_s": 2.0},
            "web": {},
            "retention": {"channels": 2, "messages": 100, "kept": 3},
        }
    quick = args.quick
    return {
        "coldStart": {"runs": 5 if quick else 15},
        "fanout": {"repeats": 1 if quick else 3},
        "fanoutLarge": {"live": (5000,) if quick else (5000, 20_000)},
        "delivery": delivery.Plan(seconds=10 if quick else 60).kwargs(),
        "cost": {"repeats": 5 if quick else 20},
        "search": {
            "messages": 20_000 if quick else 100_000,
            "lag_samples": 20 if quick else 50,
            "queries": 200 if quick else 500,
        },
        "slack": {"rounds": 30 if quick else 100},
        "transport": {
            "calls": 50 if quick else 100,
            "rounds": 4 if quick else 8,
            "runs": 2 if quick else 5,
        },
        "import": {"messages": 10_000 if quick else 100_000},
        "scheduled": {"count": 50 if quick else 200},
        "web": {},  # the same bundle at every scale: a build takes under a second
        "retention": {"channels": 5 if quick else 20},
    }


RUNNERS: dict[str, tuple[Callable[..., Any], Callable[[Any], str]]] = {
    "coldStart": (coldstart.run, coldstart.table),
    "fanout": (fanout.run, fanout.table),
    "fanoutLarge": (fanout_large.run, fanout_large.table),
    "delivery": (delivery.run, delivery.table),
    "cost": (cost.run, cost.table),
    "search": (search.run, search.table),
    "slack": (slack.run, slack.table),
    "transport": (transport.run, transport.table),
    "import": (imports.run, imports.table),
    "scheduled": (scheduled.run, scheduled.table),
    "web": (web.run, web.table),
    "retention": (retention.run, retention.table),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about two minutes)")
    parser.add_argument("--tiny", action="store_true", help="the smallest run, for tests")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only these")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)

    scale = _scale(args)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "arch": platform.machine(),
        },
        "scale": "tiny" if args.tiny else "quick" if args.quick else "full",
    }
    seconds: dict[str, float] = {}
    for name in args.only or NAMES:
        run, table = RUNNERS[name]
        started = time.monotonic()
        print(f"running {name}...", file=sys.stderr, flush=True)
        results[name] = run(**scale[name])
        seconds[name] = round(time.monotonic() - started, 1)
        print(f"\n### {name} ({seconds[name]:.0f} s)\n", flush=True)
        print(table(results[name]), flush=True)
    results["seconds"] = {**seconds, "total": round(sum(seconds.values()), 1)}
    print(f"\n### time\n\n{time_table(results['seconds'])}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.only and args.out.exists():
        results = _merged(json.loads(args.out.read_text(encoding="utf-8")), results, seconds)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


def _merged(
    earlier: dict[str, Any], results: dict[str, Any], seconds: dict[str, float]
) -> dict[str, Any]:
    """A run of some benchmarks (`--only`) replaces their keys in the file and keeps the
    rest (the other benchmarks' latest figures and their notes)."""
    merged = {**earlier, **{key: results[key] for key in (*seconds, "date", "machine")}}
    spent = {**earlier.get("seconds", {}), **seconds}
    spent.pop("total", None)
    merged["seconds"] = {**spent, "total": round(sum(spent.values()), 1)}
    return merged


BUDGET_S = 600  # issue 9: `make bench` under ten minutes


def time_table(seconds: dict[str, float]) -> str:
    """Where the run's time went, part by part, against the ten-minute budget."""
    lines = ["| part | seconds | share |", "| --- | ---: | ---: |"]
    total = seconds["total"]
    for name, spent in seconds.items():
        if name != "total":
            lines.append(f"| {name} | {spent:.0f} | {spent / max(total, 0.1):.0%} |")
    minutes, rest = divmod(round(total), 60)
    verdict = "within" if total <= BUDGET_S else "**over**"
    lines.append(
        f"| **total** | **{total:.0f}** ({minutes} min {rest:02d} s) | {verdict} the "
        f"{BUDGET_S // 60}-minute budget |"
    )
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
