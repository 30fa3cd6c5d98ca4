"""When human agents work (HANDOFF_HOURS, Beijing time) and what to tell a user who asks for one.

Agents work in China whatever the server's clock says: every comparison is in UTC+8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from pos_assistant.china_time import CHINA_TIME

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkingHours:
    opens: time
    closes: time | None  # None: until midnight ("…-24:00")

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """ "09:00-21:00" (Beijing time); a closing time before the opening one spans midnight."""
        match = _HOURS.match(text or "")
        if not match:
            raise ValueError(f"HANDOFF_HOURS must look like 09:00-21:00, got {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"HANDOFF_HOURS has an impossible time: {text!r}")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"HANDOFF_HOURS opens and closes at the same time: {text!r}")
        return cls(time(h1, m1), None if h2 == 24 else time(h2, m2))

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(CHINA_TIME).time()
        if self.closes is None:
            return local >= self.opens
        if self.opens < self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes

    def label(self) -> str:
        closes = "24:00" if self.closes is None else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}–{closes}"
