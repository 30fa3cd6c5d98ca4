"""A SQL tracker store whose stored transcripts never hold a phone, ID or card number in clear.

Rasa keeps every message in the tracker store, which is what agents read as the transcript.
User and bot texts (and the parsed text and entity values) are masked before they are written;
the slots that actions need stay as Rasa set them, because SlotSet events are not touched.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from pos_assistant.privacy import install_log_masking, mask_text

_MASKED_ENTITIES = {"phone_number"}


def mask_event_data(data: dict[str, Any]) -> dict[str, Any]:
    """Returns the serialised event with personal data masked (the input is not changed)."""
    masked = json.loads(json.dumps(data))
    if isinstance(masked.get("text"), str):
        masked["text"] = mask_text(masked["text"])
    parse_data = masked.get("parse_data")
    if isinstance(parse_data, dict):
        if isinstance(parse_data.get("text"), str):
            parse_data["text"] = mask_text(parse_data["text"])
        for entity in parse_data.get("entities") or []:
            if entity.get("entity") in _MASKED_ENTITIES and isinstance(entity.get("value"), str):
                entity["value"] = mask_text(entity["value"])
    return masked


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore (SQLite or PostgreSQL) that masks transcripts before storing them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The Rasa server's own log lines get the same masking as the stored transcripts.
        install_log_masking()
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_event_data(event.as_dict())
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
