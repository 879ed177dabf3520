"""Recurring reminders' series (parley.domain.recurrence) and reminders.add's `time` read
as Slack reads it (parley.slack.reminder_times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.domain.recurrence import Recurrence
from parley.errors import InvalidRequest
from parley.slack.reminder_times import parse

MONDAY_9PM = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]  # year, month, day, hour, minute


def test_a_daily_series_keeps_its_time_of_day() -> None:
    daily, first = Recurrence("daily"), at(2026, 12, 7, 9, 0)
    assert daily.next_after(first, first) == at(2026, 12, 8, 9, 0)
    assert daily.next_after(first, at(2026, 12, 20, 8, 59)) == at(2026, 12, 20, 9, 0)
    assert daily.next_after(first, at(2026, 12, 20, 9, 0)) == at(2026, 12, 21, 9, 0)
    assert daily.next_after(first, first - timedelta(days=3)) == first


def test_a_weekly_series_falls_on_its_days_only() -> None:
    weekly = Recurrence.weekly({0, 3})  # Monday and Thursday
    assert weekly.weekdays == ("monday", "thursday")
    first = at(2026, 12, 7, 9, 0)  # a Monday
    assert weekly.next_after(first, first) == at(2026, 12, 10, 9, 0)
    assert weekly.next_after(first, at(2026, 12, 10, 9, 0)) == at(2026, 12, 14, 9, 0)
    sunday = at(2026, 12, 6, 9, 0)  # a series started on none of its days
    assert weekly.next_after(sunday, sunday - timedelta(hours=1)) == first


def test_monthly_and_yearly_keep_their_day_and_fall_back_on_short_months() -> None:
    monthly, first = Recurrence("monthly"), at(2027, 1, 31, 9, 0)
    assert monthly.next_after(first, first) == at(2027, 2, 28, 9, 0)
    assert monthly.next_after(first, at(2027, 2, 28, 9, 0)) == at(2027, 3, 31, 9, 0)
    assert monthly.next_after(first, at(2027, 12, 31, 9, 0)) == at(2028, 1, 31, 9, 0)
    yearly, leap = Recurrence("yearly"), at(2028, 2, 29, 9, 0)
    assert yearly.next_after(leap, leap) == at(2029, 2, 28, 9, 0)
    assert yearly.next_after(leap, at(2031, 3, 1)) == at(2032, 2, 29, 9, 0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "daily",
        {},
        {"frequency": "hourly"},
        {"frequency": "weekly"},
        {"frequency": "weekly", "weekdays": ["someday"]},
        {"frequency": "weekly", "weekdays": "monday"},
        {"frequency": "monthly", "weekdays": ["monday"]},
    ],
)
def test_a_recurrence_that_is_not_one_is_refused(value: object) -> None:
    with pytest.raises(InvalidRequest):
        Recurrence.of(value)


def test_a_recurrence_is_stored_and_shown_as_slack_shows_it() -> None:
    weekly = Recurrence.of({"frequency": "weekly", "weekdays": ["Friday", "monday"]})
    assert weekly.view() == {"frequency": "weekly", "weekdays": ["monday", "friday"]}
    assert Recurrence.decode(weekly.encode()) == weekly
    assert Recurrence.decode(Recurrence("yearly").encode()).view() == {"frequency": "yearly"}


@pytest.mark.parametrize(
    ("words", "when", "how"),
    [
        ("900", at(2026, 12, 7, 21, 15), None),
        ("86400", at(2026, 12, 8, 21, 0), None),
        ("1796000000", datetime.fromtimestamp(1796000000, UTC), None),
        ("2026-12-08T10:00:00Z", at(2026, 12, 8, 10, 0), None),
        ("in 15 minutes", at(2026, 12, 7, 21, 15), None),
        ("in an hour", at(2026, 12, 7, 22, 0), None),
        ("in 2 days", at(2026, 12, 9, 21, 0), None),
        ("at 3pm", at(2026, 12, 8, 15, 0), None),
        ("11:30 PM", at(2026, 12, 7, 23, 30), None),
        ("at noon", at(2026, 12, 8, 12, 0), None),
        ("tomorrow", at(2026, 12, 8, 9, 0), None),
        ("Tomorrow at 9:30am.", at(2026, 12, 8, 9, 30), None),
        ("on Friday", at(2026, 12, 11, 9, 0), None),
        ("monday at 17:45", at(2026, 12, 14, 17, 45), None),
        ("every day", at(2026, 12, 8, 9, 0), {"frequency": "daily"}),
        ("every day at 11pm", at(2026, 12, 7, 23, 0), {"frequency": "daily"}),
        (
            "every thursday",
            at(2026, 12, 10, 9, 0),
            {"frequency": "weekly", "weekdays": ["thursday"]},
        ),
        (
            "every monday and wed at 8am",
            at(2026, 12, 9, 8, 0),
            {"frequency": "weekly", "weekdays": ["monday", "wednesday"]},
        ),
        ("every month", at(2027, 1, 7, 9, 0), {"frequency": "monthly"}),
        ("every year", at(2027, 12, 7, 9, 0), {"frequency": "yearly"}),
    ],
)
def test_reminder_times_read_as_slack_reads_them(
    words: str, when: datetime, how: dict[str, object] | None
) -> None:
    parsed = parse(words, MONDAY_9PM)
    assert parsed is not None
    moment, recurrence = parsed
    assert moment == when
    assert (recurrence.view() if recurrence else None) == how


@pytest.mark.parametrize(
    "words", ["someday", "at 25:00", "at 13pm", "in 3 fortnights", "every hour", "", "tomorrow-ish"]
)
def test_words_not_understood_are_none(words: str) -> None:
    assert parse(words, MONDAY_9PM) is None
