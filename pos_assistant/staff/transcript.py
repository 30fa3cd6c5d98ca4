"""What an agent taking over a conversation needs to read: the transcript with the assistant's
understanding of each user message, and the recommended steps for the situation it identified.

Texts come from the tracker store, where phone, ID and card numbers are already masked. User
text is stripped of control characters and kept on one line (it is printed on a terminal).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pos_assistant.china_time import beijing_time_of_timestamp
from pos_assistant.knowledge.loader import get_knowledge_base
from pos_assistant.situations import situations
from pos_assistant.staff.sanitize import strip_control_characters


def situation_discussed(slots: dict[str, Any], events: Iterable[dict[str, Any]]) -> str | None:
    """The situation the assistant advised on, else the latest one the user brought up."""
    if slots.get("situation"):
        return str(slots["situation"])
    intents = [
        ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in events
        if event.get("event") == "user"
    ]
    registry = situations()
    reported = [entry.code for name in intents if (entry := registry.by_intent(name))]
    return reported[-1] if reported else None


@dataclass(frozen=True)
class TranscriptLine:
    time: str
    speaker: str  # "user", "assistant" or "agent:<name>"
    text: str
    understanding: str = ""  # for user messages: intent, confidence, entities, safety flags


def _clock(timestamp: Any) -> str:
    if not timestamp:
        return "--:--"
    return beijing_time_of_timestamp(float(timestamp))


def understanding_of(parse_data: dict[str, Any]) -> str:
    """ "report_unordered_device 0.93 · brand=拉卡拉 · safety warning" for one user message."""
    intent = parse_data.get("intent") or {}
    parts = [f"{intent.get('name', '?')} {float(intent.get('confidence') or 0):.2f}"]
    parts += [
        f"{entity.get('entity')}={entity.get('value')}"
        for entity in parse_data.get("entities") or []
    ]
    if (parse_data.get("safety_guard") or {}).get("triggered"):
        parts.append("safety warning")
    secrets = (parse_data.get("sensitive_data") or {}).get("secrets")
    if secrets:
        parts.append("typed secrets: " + ", ".join(secrets))
    return strip_control_characters(" · ".join(parts), keep_newlines=False)


def transcript_lines(events: Iterable[dict[str, Any]]) -> list[TranscriptLine]:
    lines: list[TranscriptLine] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = strip_control_characters(event.get("text") or "", keep_newlines=False)
            if text.startswith("/"):  # a button: the parse says which
                text = f"[button] {text}"
            understanding = understanding_of(event.get("parse_data") or {})
            lines.append(
                TranscriptLine(_clock(event.get("timestamp")), "user", text, understanding)
            )
        elif kind == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get("agent")
            speaker = f"agent:{strip_control_characters(agent, keep_newlines=False)}"
            text = strip_control_characters(event["text"], keep_newlines=False)
            lines.append(
                TranscriptLine(
                    _clock(event.get("timestamp")), speaker if agent else "assistant", text
                )
            )
    return lines


def recommended_steps(situation: str | None, slots: dict[str, Any]) -> tuple[str, list[str]]:
    """The situation's title and the steps that apply to the answers given so far."""
    if not situation:
        return "", []
    known = get_knowledge_base().situations.get(situation)
    if known is None:
        return "", []
    answers = {slot: slots.get(slot) for slot in known.question_slots}
    return known.title, [step.text for step in known.steps if step.applies(answers)]
