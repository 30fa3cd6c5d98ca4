"""A "不对" that corrects a fact, not a plain "no".

"不对 我不是网购 当时是推销员上门给办的" right after the steps: the message is read as a deny, but
it corrects what the steps were built on (actions/memory.py has just changed the remembered fact).
The answer is the steps again, adjusted to the corrected fact, instead of "好的，还有其他问题吗".
Used by action_acknowledge_yes_no (actions/conversation.py).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction

from actions.memory import MEMORY_SLOTS, QUESTION_MEMORY
from actions.tracker_reading import SITUATION_SLOT, events_since_user_spoke
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base
from pos_assistant.situations import situations


def facts_changed_by_latest_message(tracker: Tracker) -> set[str]:
    """The remembered facts (known_* slots) the latest user message set or changed."""
    return {
        str(event.get("name"))
        for event in events_since_user_spoke(tracker)
        if event.get("event") == "slot" and event.get("name") in MEMORY_SLOTS
    }


def situation_depending_on(tracker: Tracker, facts: set[str]) -> str | None:
    """The situation advised last, when one of its questions is answered by one of `facts`."""
    code = tracker.get_slot(SITUATION_SLOT)
    if not code or not facts or tracker.active_loop_name:
        return None
    try:
        situation = get_knowledge_base().situations.get(code)
    except KnowledgeError:
        return None
    if situation is None or situations().get(code) is None:
        return None
    used = {QUESTION_MEMORY.get(slot) for slot in situation.question_slots}
    return code if used & facts else None


def steps_for_corrected_fact(tracker: Tracker) -> list[EventType] | None:
    """The situation's advise action next (its answers now differ, so it sends the adjusted
    steps in full) when the latest message corrected a fact they depend on, else None."""
    code = situation_depending_on(tracker, facts_changed_by_latest_message(tracker))
    entry = situations().get(code)
    return None if entry is None else [FollowupAction(entry.advise_action)]
