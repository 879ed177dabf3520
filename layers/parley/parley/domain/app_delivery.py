"""The app events queue → the apps' request URLs: one signed POST per queued envelope.

Outcomes are counted as metrics; a paused subscription is reported (an error log line and
the `AppSubscriptionPaused` metric, for an alarm) and stays paused until an admin resumes
it. A message that cannot be read or whose delivery hit an error of Parley's own (not the
app's) is reported as a batch item failure: SQS redelivers it, then the DLQ keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from parley.apps import delivery
from parley.apps.delivery import Envelope, HttpPoster, Outcome, Requeue, Subscriber
from parley.domain.ports.apps import store as app_store
from parley.observability import MetricUnit, logger, metrics


@dataclass(frozen=True)
class QueuedEnvelope:
    message_id: str
    body: str


class _StoredState:
    """The app's delivery state in the table."""

    def url_verified(self, app_id: str, url: str) -> None:
        app_store.url_verified(app_id, url)

    def delivered(self, app_id: str) -> None:
        app_store.events_delivered(app_id)

    def lost(self, app_id: str) -> int:
        return app_store.event_lost(app_id)

    def pause(self, app_id: str, reason: str) -> None:
        app_store.pause_events(app_id, reason)
        metrics.add_metric("AppSubscriptionPaused", MetricUnit.Count, 1)
        logger.error("app event subscription paused", extra={"appId": app_id, "reason": reason})


def _subscriber(app_id: str) -> Subscriber | None:
    app = app_store.get_app(app_id)
    if app is None:
        return None
    return Subscriber(
        app_id=app.appId,
        bot_user_id=app.botUserId,
        events_url=app.eventsUrl,
        signing_secret=app.signingSecret,
        verified_url=app.eventsVerifiedUrl,
        paused=app.eventsPaused,
    )


def deliver(
    queued: Sequence[QueuedEnvelope],
    poster: HttpPoster,
    queue: Requeue,
    retry_delays: tuple[int, ...] = delivery.RETRY_DELAYS_SECONDS,
) -> list[str]:
    """Delivers each envelope; returns the message ids to hand back to SQS."""
    failed = []
    state = _StoredState()
    for item in queued:
        try:
            envelope = Envelope.model_validate_json(item.body)
        except ValidationError:
            logger.error("unreadable app event", extra={"messageId": item.message_id})
            failed.append(item.message_id)
            continue
        try:
            app = _subscriber(envelope.appId)
            outcome = delivery.deliver(
                envelope, app, poster, queue, state, retry_delays=retry_delays
            )
        except Exception:  # Parley's own failure (table, queue): SQS redelivers this one
            logger.exception("app event delivery failed", extra={"appId": envelope.appId})
            failed.append(item.message_id)
            continue
        metrics.add_metric(f"AppEvent{outcome.name.title().replace('_', '')}", MetricUnit.Count, 1)
        if outcome is Outcome.LOST:
            logger.warning("app event lost", extra={"appId": envelope.appId})
    return failed
