"""action_resume_form: "继续" / "继续刚才的登记" starts an interrupted form again where it stopped.

A form is interrupted when it was left (a scam warning, another topic, a handoff) without its
ending: the advice for a situation form, the case written or cancelled for the case form, the
report for the lookup. The most recently started of those is resumed; its filled slots are kept,
so it asks the first question still open.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from pos_assistant.situations import situations


# The actions that end each form; a form left without one of them was interrupted.
def form_endings() -> dict[str, frozenset[str]]:
    return {
        **{
            entry.form: frozenset({entry.advise_action, "utter_advice_cancelled"})
            for entry in situations().entries
        },
        "open_case_form": frozenset({"action_submit_case", "action_cancel_case_form"}),
        "case_lookup_form": frozenset({"action_report_case_status", "action_cancel_case_form"}),
    }


RESUMED_RESPONSE = "utter_form_resumed"
NOTHING_RESPONSE = "utter_nothing_to_resume"


def interrupted_form(events: list[dict[str, Any]]) -> str | None:
    """The most recently started form that was left without its ending, if any."""
    endings = form_endings()
    started: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.get("event") == "active_loop" and event.get("name") in endings:
            started[event["name"]] = index
    for form, index in sorted(started.items(), key=lambda item: -item[1]):
        ended = any(
            event.get("event") == "action" and event.get("name") in endings[form]
            for event in events[index + 1 :]
        )
        if not ended:
            return form
    return None


class ActionResumeForm(Action):
    def name(self) -> str:
        return "action_resume_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = interrupted_form(list(tracker.events))
        if form is None:
            dispatcher.utter_message(response=NOTHING_RESPONSE)
            return []
        dispatcher.utter_message(response=RESUMED_RESPONSE)
        return [FollowupAction(form)]
