"""How many photos a conversation and a client address may send: a minute's and a day's worth.

Counted in the database the photos are stored in (the `rate_counters` table of
pos_assistant/rate_limits.py, fixed windows), so every Rasa server and web relay sharing that
database shares one cap: two processes cannot each let 20 photos a minute through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pos_assistant.rate_limits import identities, take_quota
from pos_assistant.settings import Settings

MINUTE_SCOPE = "photos_minute"
DAY_SCOPE = "photos_day"


@dataclass(frozen=True)
class UploadQuota:
    # The defaults are the settings' own (one place for each number).
    per_minute: int = Settings.photo_uploads_per_minute
    per_day: int = Settings.photo_uploads_per_day

    def take(
        self,
        session: Session,
        now: datetime,
        conversation_id: str,
        client_address: str | None,
        count: int,
    ) -> str | None:
        """Counts `count` photos in the caller's transaction; the refusal reason when a cap would
        be passed (then the caller rolls the transaction back, so nothing is counted)."""
        who = identities(conversation_id, client_address)
        for scope, limit, window, reason in (
            (MINUTE_SCOPE, self.per_minute, timedelta(minutes=1), "too_fast"),
            # The disk a conversation or address can fill is bounded too, not only its pace.
            (DAY_SCOPE, self.per_day, timedelta(days=1), "too_many_today"),
        ):
            quotas = [(f"{scope}:{kind}", value, limit) for kind, value in who]
            if take_quota(session, now, quotas, window, amount=count) is not None:
                return reason
        return None
