"""`reminders.add`'s `time`, as Slack reads it: Unix seconds (up to five years ahead), a
number of seconds from now (up to a day), ISO 8601, or words: "in 15 minutes", "at 3pm",
"tomorrow", "tomorrow at 9:30", "on Friday", "next monday at noon", "every Thursday",
"every weekday at 9am", "every day", "every month", "every year".

Times of day are UTC: every Parley user's `tz` is UTC (users.info says so). A day without
a time is 9:00, as in Slack. Anything else is None (the method's `cannot_parse`).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from parley.domain.recurrence import WEEKDAYS, Recurrence

RELATIVE_MAX_S = 24 * 3600  # Slack: "the number of seconds until the reminder (if within 24 hours)"
DEFAULT_TIME = time(9, 0)

_UNITS = {
    "second": 1,
    "sec": 1,
    "minute": 60,
    "min": 60,
    "hour": 3600,
    "hr": 3600,
    "day": 86400,
    "week": 7 * 86400,
}
_DAY = "|".join([*WEEKDAYS, *(day[:3] for day in WEEKDAYS)])
_CLOCK = r"(?:noon|midnight|\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)"
_IN = re.compile(r"in\s+(an?|\d+)\s+([a-z]+?)s?")
_AT = re.compile(rf"(?:at\s+)?(?P<clock>{_CLOCK})")
_DAYS = re.compile(rf"(?:(?P<word>today|tonight|tomorrow)|(?:on\s+|next\s+)?(?P<day>{_DAY}))")
_EVERY = re.compile(
    rf"every\s+(?P<what>day|weekday|week|month|year|(?:{_DAY})(?:\s*(?:,|and|&)\s*(?:{_DAY}))*)"
)


def parse(value: str, now: datetime) -> tuple[datetime, Recurrence | None] | None:
    """When the reminder first fires and how it repeats, or None for words not understood."""
    text = " ".join(value.strip().lower().rstrip(".").split())
    for reading in (_number, _iso, _relative):
        moment = reading(text, now)
        if moment is not None:
            return moment, None
    return _words(text, now)


def _number(text: str, now: datetime) -> datetime | None:
    """Seconds from now (up to a day), else Unix seconds."""
    try:
        number = float(text)
    except ValueError:
        return None
    if 0 < number <= RELATIVE_MAX_S:
        return now + timedelta(seconds=number)
    try:
        return datetime.fromtimestamp(number, now.tzinfo)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(text: str, now: datetime) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _relative(text: str, now: datetime) -> datetime | None:
    """ "in 15 minutes", "in an hour", "in 2 days"."""
    match = _IN.fullmatch(text)
    seconds = _UNITS.get(match.group(2)) if match else None
    if match is None or seconds is None:
        return None
    count = match.group(1)
    return now + timedelta(seconds=seconds * (1 if count in ("a", "an") else int(count)))


def _words(text: str, now: datetime) -> tuple[datetime, Recurrence | None] | None:
    """A day and/or a time of day, or a recurrence; the time ("at 3pm") comes last."""
    head, clock = text, None
    if at := re.search(rf"(?:^|\s)(?:at\s+)?(?P<clock>{_CLOCK})$", text):
        head, clock = text[: at.start()].strip(), _clock(at.group("clock"))
        if clock is None:
            return None
    if every := _EVERY.fullmatch(head):
        return _series(every.group("what"), clock, now)
    day = _DAYS.fullmatch(head) if head else None
    if day is None:
        if head or clock is None:
            return None
        today = datetime.combine(now.date(), clock, now.tzinfo)  # a time alone: the next one
        return (today if today > now else today + timedelta(days=1)), None
    word = day.group("word")
    if word is not None:
        ahead = 1 if word == "tomorrow" else 0
        default = time(20, 0) if word == "tonight" else DEFAULT_TIME
    else:  # "on Friday" said on a Friday: the next one
        ahead = (_weekday(day.group("day")) - now.weekday()) % 7 or 7
        default = DEFAULT_TIME
    date = now.date() + timedelta(days=ahead)
    return datetime.combine(date, clock or default, now.tzinfo), None


def _series(what: str, clock: time | None, now: datetime) -> tuple[datetime, Recurrence]:
    if what == "day":
        recurrence = Recurrence("daily")
    elif what == "weekday":
        recurrence = Recurrence.weekly({0, 1, 2, 3, 4})
    elif what == "week":
        recurrence = Recurrence.weekly({now.weekday()})
    elif what == "month":
        recurrence = Recurrence("monthly")
    elif what == "year":
        recurrence = Recurrence("yearly")
    else:
        recurrence = Recurrence.weekly({_weekday(day) for day in re.findall(_DAY, what)})
    # The series starts today at its time of day; its first occurrence is the next one.
    start = datetime.combine(now.date(), clock or DEFAULT_TIME, now.tzinfo)
    return recurrence.next_after(start, now), recurrence


def _weekday(name: str) -> int:
    return next(i for i, day in enumerate(WEEKDAYS) if day.startswith(name[:3]))


def _clock(word: str) -> time | None:
    word = word.replace(".", "").replace(" ", "")
    if word == "noon":
        return time(12, 0)
    if word == "midnight":
        return time(0, 0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", word)
    if match is None:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
