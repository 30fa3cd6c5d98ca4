"""Typed, immutable view of the knowledge files (data/knowledge/*.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# A follow-up answer: True (是), False (否) or None (not answered yet).
Answers = Mapping[str, bool | None]


@dataclass(frozen=True)
class Source:
    """Where an item comes from: a seed article or domain-facts.md, and the section heading."""

    file: str
    section: str


@dataclass(frozen=True)
class Item:
    """One piece of advice text, shown only when every `when` condition matches the answers."""

    text: str
    source: Source
    when: tuple[tuple[str, bool], ...] = ()
    note: str = ""

    def applies(self, answers: Answers) -> bool:
        # An unanswered question matches no condition: conditional items need an answer.
        return all(answers.get(slot) is expected for slot, expected in self.when)


@dataclass(frozen=True)
class LegalPoint(Item):
    law: str = ""


@dataclass(frozen=True)
class ChannelUse(Item):
    """An official channel and when to use it; `text` holds the "use when" wording."""

    channel: str = ""


@dataclass(frozen=True)
class Question:
    """A yes/no follow-up question that changes the advice (asked by a Rasa form slot)."""

    slot: str
    about: str
    yes_phrases: tuple[str, ...] = ()
    no_phrases: tuple[str, ...] = ()
    # What a first message that reads both ways counts as; None means "ask".
    prefer_when_conflicting: bool | None = None


@dataclass(frozen=True)
class Situation:
    name: str
    title: str
    summary: Item
    questions: tuple[Question, ...]
    causes: tuple[Item, ...]
    steps: tuple[Item, ...]
    risks: tuple[Item, ...]
    legal: tuple[LegalPoint, ...]
    evidence: tuple[Item, ...]
    channels: tuple[ChannelUse, ...]

    @property
    def question_slots(self) -> tuple[str, ...]:
        return tuple(question.slot for question in self.questions)

    def all_items(self) -> tuple[Item, ...]:
        return (
            self.summary,
            *self.causes,
            *self.steps,
            *self.risks,
            *self.legal,
            *self.evidence,
            *self.channels,
        )


@dataclass(frozen=True)
class FaqSection:
    heading: str
    items: tuple[Item, ...]
    numbered: bool = False


@dataclass(frozen=True)
class FaqAnswer:
    intent: str
    title: str
    intro: Item
    sections: tuple[FaqSection, ...]

    def all_items(self) -> tuple[Item, ...]:
        return (self.intro, *(item for section in self.sections for item in section.items))


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class CommonTexts:
    headings: Mapping[str, str]
    channel_names: Mapping[str, str]
    next_actions_prompt: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    situations: Mapping[str, Situation]
    faq: Mapping[str, FaqAnswer]
    common: CommonTexts

    def question_slots(self) -> tuple[str, ...]:
        return tuple(slot for s in self.situations.values() for slot in s.question_slots)

    def all_texts(self) -> list[str]:
        """Every user-facing string, for safety checks (URLs, numbers, advertising)."""
        texts: list[str] = [
            *self.common.headings.values(),
            *self.common.channel_names.values(),
            self.common.next_actions_prompt,
            *(button.title for button in self.common.buttons),
        ]
        for situation in self.situations.values():
            texts.append(situation.title)
            texts.extend(item.text for item in situation.all_items())
        for answer in self.faq.values():
            texts.append(answer.title)
            texts.extend(section.heading for section in answer.sections)
            texts.extend(item.text for item in answer.all_items())
        return texts
