"""Times shown to users and staff: China Standard Time (Beijing, UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_time(moment: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime as Beijing time, e.g. "2026-12-02 22:15"."""
    return moment.astimezone(CHINA_TIME).strftime(pattern)


def beijing_time_of_timestamp(timestamp: float, pattern: str = "%m-%d %H:%M") -> str:
    """A Unix timestamp (Rasa's event times) as Beijing time."""
    return beijing_time(datetime.fromtimestamp(timestamp, tz=timezone.utc), pattern)
