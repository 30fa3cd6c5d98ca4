"""What the console shows: queue entries and the agent's view of one conversation, as JSON.

Texts come from the tracker store (numbers already masked there) and are masked again here, so a
transcript written before masking existed cannot leak a number into the browser. The page puts
every text in with textContent, never as HTML.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pos_assistant.cases.errors import CaseNotFound
from pos_assistant.cases.labels import CaseLabels
from pos_assistant.cases.records import Case
from pos_assistant.cases.store import CaseStore
from pos_assistant.console.texts import console_texts, intent_labels
from pos_assistant.handoff.records import HandoffRequest
from pos_assistant.handoff.service import Conversation, wechat_window_end
from pos_assistant.privacy import mask_text
from pos_assistant.staff.sanitize import strip_control_characters
from pos_assistant.staff.transcript import recommended_steps, situation_discussed

MAX_SUGGESTIONS = 4
LAST_MESSAGE_CHARS = 120
# FrustrationDetector's key in the parse result (pos_assistant/nlu/frustration.py; importing
# that module would load Rasa and TensorFlow into the console).
FRUSTRATION_FLAG = "frustration_detected"
SESSION_START = "/session_start"


def _text(value: Any) -> str:
    return mask_text(strip_control_characters(str(value or "")))


def _iso(timestamp: Any) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat()


def message_flags(parse_data: dict[str, Any]) -> list[str]:
    """Codes of what needs the agent's attention in one customer message (data/console.yml)."""
    flags = []
    if (parse_data.get("safety_guard") or {}).get("triggered"):
        flags.append("safety")
    flags += list((parse_data.get("sensitive_data") or {}).get("secrets") or [])
    if parse_data.get(FRUSTRATION_FLAG):
        flags.append("frustration")
    return flags


def reading_of(parse_data: dict[str, Any]) -> dict[str, Any]:
    """The assistant's reading of one customer message: intent, confidence, entities, flags."""
    intent = parse_data.get("intent") or {}
    name = str(intent.get("name") or "")
    return {
        "intent": name,
        "intent_label": intent_labels().get(name, ""),
        "confidence": round(float(intent.get("confidence") or 0), 3),
        "entities": [
            {"entity": str(e.get("entity")), "value": _text(e.get("value"))}
            for e in parse_data.get("entities") or []
        ],
        "flags": message_flags(parse_data),
    }


def transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text") == SESSION_START:
            continue  # the widget's own request for a welcome, not something the customer wrote
        if kind == "user":
            entries.append(
                {
                    "speaker": "user",
                    "at": _iso(event.get("timestamp")),
                    "ts": float(event.get("timestamp") or 0),
                    "text": _text(event.get("text")),
                    "reading": reading_of(event.get("parse_data") or {}),
                }
            )
        elif kind == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get("agent")
            entries.append(
                {
                    "speaker": "agent" if agent else "assistant",
                    "agent": _text(agent) if agent else None,
                    "at": _iso(event.get("timestamp")),
                    "text": _text(event.get("text")),
                }
            )
    return entries


def queue_entry(
    request: HandoffRequest, events: list[dict[str, Any]] | None, labels: CaseLabels
) -> dict[str, Any]:
    users = [
        event
        for event in events or []
        if event.get("event") == "user" and event.get("text") != SESSION_START
    ]
    flags: list[str] = []
    for event in users:
        flags += [f for f in message_flags(event.get("parse_data") or {}) if f not in flags]
    last = _text(users[-1].get("text")) if users else _text(request.summary)
    return {
        "conversation_id": request.conversation_id,
        "channel": request.channel,
        "topic": request.category or "",
        "topic_label": labels.category(request.category) if request.category else "",
        "status": request.status,
        "taken_by": request.taken_by,
        "since": request.created_at.isoformat(),
        "last_message": last[:LAST_MESSAGE_CHARS],
        "flags": flags,
        "case_number": request.case_number,
    }


def case_card(case: Case, labels: CaseLabels) -> dict[str, Any]:
    return {
        "case_number": case.case_number,
        "status": case.status,
        "status_label": labels.status(case.status),
        "category": case.category,
        "category_label": labels.category(case.category),
        "phone": case.masked_phone,
        "description": _text(case.description),
        "brand": _text(case.brand) if case.brand else None,
        "device_serial": _text(case.device_serial) if case.device_serial else None,
        "tracking_number": _text(case.tracking_number) if case.tracking_number else None,
        "amount": case.amount,
        "channel": case.channel,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "statuses": [
            {"code": code, "label": label} for code, label in labels.status_labels.items()
        ],
        "events": [
            {
                "kind": event.kind,
                "to_status": labels.status(event.to_status) if event.to_status else None,
                "note": _text(event.note) if event.note else None,
                "public": event.is_public,
                "author": _text(event.author),
                "at": event.created_at.isoformat(),
            }
            for event in case.events
        ],
    }


def suggestions(
    agent: str, steps: list[str], case: dict[str, Any] | None, flagged: bool, labels: CaseLabels
) -> list[str]:
    """Drafts the agent may edit and send (data/console.yml): greeting, safety, case, steps."""
    drafts = console_texts()["suggestions"]
    found = [drafts["greeting"].format(agent=agent)]
    if flagged:
        found.append(drafts["safety"])
    if case:
        found.append(
            drafts["case"].format(
                case_number=case["case_number"],
                status=case["status_label"],
                next_step=labels.next_step(case["status"]),
            )
        )
    found += [drafts["step"].format(step=step) for step in steps]
    return found[:MAX_SUGGESTIONS]


def conversation_view(
    conversation: Conversation, store: CaseStore, labels: CaseLabels, agent: str
) -> dict[str, Any]:
    request, events, slots = conversation.request, conversation.events, conversation.slots
    situation = situation_discussed(slots, events) or request.category
    title, steps = recommended_steps(situation, slots)
    case = None
    if request.case_number:
        try:
            case = case_card(store.get_case(request.case_number), labels)
        except CaseNotFound:
            case = None
    else:  # a case this customer opened (with the assistant, or an agent for them)
        opened = store.cases_opened_by(request.conversation_id)
        case = case_card(opened[0], labels) if opened else None
    entries = transcript(events)
    flagged = any(
        {"safety", "card_number", "verification_code", "password"} & set(entry["reading"]["flags"])
        for entry in entries
        if entry["speaker"] == "user"
    )
    window_end = wechat_window_end(request.conversation_id, events)
    return {
        "handoff": queue_entry(request, events, labels),
        "transcript": entries,
        "situation": {"code": situation, "title": title, "steps": steps},
        "suggestions": suggestions(agent, steps, case, flagged, labels),
        "case": case,
        # A number the user only typed is not verified as theirs: shown apart, as the CLI does.
        "case_number_mentioned": None if case else (_text(slots.get("case_number")) or None),
        "wechat_window_ends": window_end.isoformat() if window_end else None,
        "categories": [{"code": code, "label": label} for code, label in labels.categories.items()],
    }
