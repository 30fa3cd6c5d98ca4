"""Typed, immutable view of the knowledge files (data/knowledge/*.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
class EvidenceCheck(Item):
    """One thing the steps ask the user to keep that a photo covers (`text`: what to photograph,
    short); `typed` names the ID slot (tracking_number, device_sn) that covers it when typed."""

    typed: str = ""


@dataclass(frozen=True)
class LegalPoint(Item):
    """A legal point in summary (`text` is the gist, never presented as a quotation)."""

    law: str = ""
    useful_when: str = ""  # when it helps the user
    caveat: str = ""  # when it may not apply


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
    # A dedicated reader instead of the phrase lists (e.g. "already_given").
    reader: str | None = None


@dataclass(frozen=True)
class FollowUp(Item):
    """A short answer to a question people ask after the steps ("怎么寄回去"), by topic."""

    topic: str = ""


@dataclass(frozen=True)
class FollowUpTopic:
    """A follow-up topic: the words that name it and the answer when no situation has its own."""

    name: str
    keywords: tuple[str, ...]
    default: Item


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
    # Money or a deposit is at stake: the anti-fraud core goes with every answer.
    money_involved: bool = True
    # Further steps shown under "详细说明" (professional advice, licence check …).
    more_steps: tuple[Item, ...] = ()
    # Answers to the questions asked after the steps, for this situation.
    follow_ups: tuple[FollowUp, ...] = ()
    # What the steps ask to keep that a photo (or a typed ID) covers: the photo checklist.
    evidence_checklist: tuple[EvidenceCheck, ...] = ()

    @property
    def question_slots(self) -> tuple[str, ...]:
        return tuple(question.slot for question in self.questions)

    def all_items(self) -> tuple[Item, ...]:
        return (
            self.summary,
            *self.causes,
            *self.steps,
            *self.more_steps,
            *self.risks,
            *self.legal,
            *self.evidence,
            *self.channels,
            *self.follow_ups,
            *self.evidence_checklist,
        )

    def follow_up(self, topic: str) -> FollowUp | None:
        return next((item for item in self.follow_ups if item.topic == topic), None)


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
    # Never give codes/passwords/card numbers, no transfers, hang up and check with 96110,
    # 110 and freezing the card if anything was given: sent with every money-related answer.
    anti_fraud_core: str = ""
    # One line on which office handles what (12315 / 12363 / 96110 / 110).
    offices: str = ""
    # The "详细说明" / "法律依据" quick replies and the texts around them.
    details_button: Button = Button("", "")
    legal_button: Button = Button("", "")
    details_prompt: str = ""
    details_and_legal_prompt: str = ""
    legal_intro: str = ""
    legal_none: str = ""
    legal_labels: Mapping[str, str] = field(default_factory=dict)
    law_titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnowledgeBase:
    situations: Mapping[str, Situation]
    faq: Mapping[str, FaqAnswer]
    common: CommonTexts
    # In file order: the first topic whose keyword a question contains is the one answered.
    follow_up_topics: tuple[FollowUpTopic, ...] = ()

    def question_slots(self) -> tuple[str, ...]:
        return tuple(slot for s in self.situations.values() for slot in s.question_slots)

    def all_texts(self) -> list[str]:
        """Every user-facing string, for safety checks (URLs, numbers, advertising)."""
        texts: list[str] = [
            *self.common.headings.values(),
            *self.common.channel_names.values(),
            self.common.next_actions_prompt,
            *(button.title for button in self.common.buttons),
            self.common.anti_fraud_core,
            self.common.offices,
            self.common.details_button.title,
            self.common.legal_button.title,
            self.common.details_prompt,
            self.common.details_and_legal_prompt,
            self.common.legal_intro,
            self.common.legal_none,
            *self.common.legal_labels.values(),
            *self.common.law_titles.values(),
        ]
        for situation in self.situations.values():
            texts.append(situation.title)
            texts.extend(item.text for item in situation.all_items())
            texts.extend(text for p in situation.legal for text in (p.useful_when, p.caveat))
        texts.extend(topic.default.text for topic in self.follow_up_topics)
        for answer in self.faq.values():
            texts.append(answer.title)
            texts.extend(section.heading for section in answer.sections)
            texts.extend(item.text for item in answer.all_items())
        return texts
