"""bench/results/latest.json: a run of some benchmarks keeps the others' latest figures."""

from __future__ import annotations

from bench.__main__ import _merged


def test_a_partial_run_replaces_its_keys_and_keeps_the_rest() -> None:
    earlier = {
        "date": "2026-12-01T00:00:00+00:00",
        "machine": {"cpus": 2},
        "scale": "full",
        "cost": {"usdPerMillionMessages": 14.6},
        "fanout": {"rows": [1]},
        "importNote": "kept",
        "seconds": {"cost": 1.0, "fanout": 90.0, "total": 91.0},
    }
    run = {
        "date": "2026-12-07T00:00:00+00:00",
        "machine": {"cpus": 2},
        "scale": "full",
        "cost": {"usdPerMillionMessages": 13.06},
        "seconds": {"cost": 2.0, "total": 2.0},
    }
    merged = _merged(earlier, run, {"cost": 2.0})
    assert merged["cost"] == {"usdPerMillionMessages": 13.06}
    assert merged["fanout"] == {"rows": [1]}
    assert merged["importNote"] == "kept"
    assert merged["date"] == run["date"]
    assert merged["seconds"] == {"cost": 2.0, "fanout": 90.0, "total": 92.0}
