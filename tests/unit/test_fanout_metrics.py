"""The fan-out's metrics: what the dashboard and the failed-posts alarm read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


class _Poster:
    """Delivers to `ok-*`, fails (an error that is not 410) to every other connection."""

    def post(self, connection_id: str, data: bytes) -> bool:
        if connection_id.startswith("ok-"):
            return True
        raise RuntimeError("403 Forbidden")


@pytest.fixture
def metric_set() -> Iterator[dict[str, Any]]:
    from parley.observability import metrics

    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()


def test_failed_posts_are_counted_apart_from_delivered_ones(metric_set: dict[str, Any]) -> None:
    from parley.adapters.fanout import Broadcaster

    delivery = Broadcaster(_Poster(), max_workers=2).to_connections(
        "W1", {"ok-1": "u1", "ok-2": "u2", "bad-1": "u3"}, {"type": "message"}
    )
    assert (delivery.delivered, delivery.failed) == (2, 1)
    assert metric_set["EventsDelivered"]["Value"] == [2.0]
    assert metric_set["ConnectionPostsFailed"]["Value"] == [1.0]


def test_no_failed_posts_metric_when_every_post_was_delivered(metric_set: dict[str, Any]) -> None:
    from parley.adapters.fanout import Broadcaster

    Broadcaster(_Poster(), max_workers=2).to_connections("W1", {"ok-1": "u1"}, {"type": "x"})
    assert "ConnectionPostsFailed" not in metric_set
