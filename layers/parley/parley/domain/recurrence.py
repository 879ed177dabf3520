"""How a recurring reminder repeats, in Slack's shape: `{frequency: "daily" | "weekly" |
"monthly" | "yearly", weekdays: [...]}` (weekly only; the days it falls on).

A series keeps the time of day of its first occurrence (UTC, as every Parley user's `tz`);
a monthly one keeps its first day of the month and a yearly one its first date, falling on
the month's last day where the month is shorter (the 31st is the 30th in April, 29 February
the 28th in a common year) and back on the day itself where it is not.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parley.errors import InvalidRequest

FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Recurrence:
    frequency: str
    weekdays: tuple[str, ...] = ()  # weekly: in the week's order, Monday first

    @classmethod
    def of(cls, value: Any) -> Recurrence:
        """Slack's recurrence object (as a client sends it); InvalidRequest naming what is
        wrong with one that is not."""
        if not isinstance(value, Mapping):
            raise InvalidRequest("recurrence must be an object {frequency, weekdays?}")
        frequency = value.get("frequency")
        if frequency not in FREQUENCIES:
            raise InvalidRequest(f"recurrence.frequency must be one of {', '.join(FREQUENCIES)}")
        days = value.get("weekdays")
        if frequency != "weekly":
            if days:
                raise InvalidRequest("recurrence.weekdays is for a weekly recurrence only")
            return cls(frequency)
        if not isinstance(days, list) or not days:
            raise InvalidRequest('a weekly recurrence needs weekdays, e.g. ["monday"]')
        if not all(isinstance(day, str) and day.lower() in WEEKDAYS for day in days):
            raise InvalidRequest(f"recurrence.weekdays are among {', '.join(WEEKDAYS)}")
        return cls.weekly({WEEKDAYS.index(day.lower()) for day in days})

    @classmethod
    def weekly(cls, days: set[int] | frozenset[int]) -> Recurrence:
        return cls("weekly", tuple(WEEKDAYS[day] for day in sorted(days)))

    def view(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency,
            **({"weekdays": list(self.weekdays)} if self.weekdays else {}),
        }

    def encode(self) -> str:
        """As the pending reminder stores it: `weekly:monday,friday`, `daily`, ..."""
        return f"{self.frequency}:{','.join(self.weekdays)}" if self.weekdays else self.frequency

    @classmethod
    def decode(cls, stored: str) -> Recurrence:
        frequency, _, days = stored.partition(":")
        return cls(frequency, tuple(days.split(",")) if days else ())

    def next_after(self, first: datetime, after: datetime) -> datetime:
        """The series' first occurrence later than `after`; the series began at `first` (which
        is one of them unless it is a weekly one's and falls on none of its days)."""
        after = max(after, first - timedelta(microseconds=1))  # `first` itself, if it is one
        if self.frequency == "daily":
            moment = first + timedelta(days=(after - first).days)
            return moment if moment > after else moment + timedelta(days=1)
        if self.frequency == "weekly":
            days = {WEEKDAYS.index(day) for day in self.weekdays}
            moment = datetime.combine(after.date(), first.timetz())
            for _ in range(8):
                if moment > after and moment.weekday() in days:
                    return moment
                moment += timedelta(days=1)
            raise ValueError(f"a weekly recurrence without days: {self!r}")
        if self.frequency == "monthly":
            year, month = after.year, after.month
            for _ in range(3):
                moment = _on(first, year, month, first.day)
                if moment > after:
                    return moment
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            raise AssertionError("a month always follows")
        if self.frequency == "yearly":
            for year in (after.year, after.year + 1):
                moment = _on(first, year, first.month, first.day)
                if moment > after:
                    return moment
            raise AssertionError("a year always follows")
        raise ValueError(f"not a frequency: {self.frequency!r}")


def _on(first: datetime, year: int, month: int, day: int) -> datetime:
    """`first`'s time of day on that date, or on the month's last day where it is shorter."""
    last = calendar.monthrange(year, month)[1]
    return first.replace(year=year, month=month, day=min(day, last))
