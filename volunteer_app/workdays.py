"""China's working-day calendar: weekends and public holidays off, adjusted workdays (调休) on.

The national rules ask for service records to be entered within 10 working days of the activity;
after that, only the office may correct a record. The `holidays` package keeps the calendar.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

RECORDING_WORKING_DAYS = 10
_CHINA_TZ = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=16)
def _calendar(years: tuple[int, ...]) -> holidays.HolidayBase:
    return holidays.China(years=years)


def _local_date(value: date | datetime) -> date:
    """A date in China's time zone (an aware datetime is converted first)."""
    if isinstance(value, datetime):
        return value.astimezone(_CHINA_TZ).date() if value.tzinfo else value.date()
    return value


def add_working_days(start: date | datetime, n: int) -> date:
    """The date n working days after start's date (China's calendar)."""
    day = _local_date(start)
    years = tuple(range(day.year, day.year + 2))
    return _calendar(years).get_nth_working_day(day, n)


def recording_deadline(activity_end: date | datetime) -> date:
    """The last day on which a leader may still record or correct the activity's attendances."""
    return add_working_days(activity_end, RECORDING_WORKING_DAYS)


def past_recording_deadline(activity_end: date | datetime, now: date | datetime) -> bool:
    """True when now lies after the 10-working-day recording window of an activity that ended then."""
    return _local_date(now) > recording_deadline(activity_end)
