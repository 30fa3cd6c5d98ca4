"""A "不对" that corrects a fact, not a plain "no".

"不对 我不是网购 当时是推销员上门给办的" right after the steps: the message is read as a deny, but
it corrects what the steps were built on (actions/memory.py has just changed the remembered fact).
The answer is the steps again, adjusted to the corrected fact, instead of "好的，还有其他问题吗".
Used by action_acknowledge_yes_no (actions/conversation.py).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_replies import answer_key, current_answers, send
from actions.memory import MEMORY_SLOTS, QUESTION_MEMORY
from actions.tracker_reading import ADVISED_SLOT, SITUATION_SLOT, events_since_user_spoke
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base, render_situation


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
    if situation is None:
        return None
    used = {QUESTION_MEMORY.get(slot) for slot in situation.question_slots}
    return code if used & facts else None


def steps_for_corrected_fact(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """The steps in full for the corrected answers, when the latest message corrected a fact the
    last steps depend on (None otherwise). They are new steps: no "already sent" reminder."""
    code = situation_depending_on(tracker, facts_changed_by_latest_message(tracker))
    if code is None:
        return None
    knowledge = get_knowledge_base()
    situation = knowledge.situations[code]
    answers = current_answers(tracker, situation)
    send(dispatcher, render_situation(situation, answers, knowledge.common, include_core=True))
    advised = list(tracker.get_slot(ADVISED_SLOT) or [])
    return [SlotSet(ADVISED_SLOT, [*advised, answer_key(code, answers)])]
