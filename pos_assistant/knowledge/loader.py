"""Loads data/knowledge/*.yml into typed models and refuses files that break the rules.

Rules (so the support lead gets a clear error instead of a bad answer reaching a user):
required fields present, one file per situation in data/situations.yml asking that situation's
questions, and the content policy of data/knowledge/content_policy.yml: every item has a source
from the allowed documents, legal points and channels only from the allowed lists, no links, no
phone numbers but the official ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pos_assistant.knowledge.models import (
    Button,
    ChannelUse,
    CommonTexts,
    EvidenceCheck,
    FaqAnswer,
    FaqSection,
    FollowUp,
    FollowUpTopic,
    Item,
    KnowledgeBase,
    LegalPoint,
    Question,
    Situation,
)
from pos_assistant.knowledge.reading import KnowledgeError, KnowledgeFileReader
from pos_assistant.settings import PROJECT_ROOT
from pos_assistant.situations import RegistryError, situations

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"

FAQ_INTENTS = ("ask_fees", "ask_apply", "ask_activation")
HEADING_KEYS = ("causes", "steps", "more_steps", "risks", "legal", "evidence", "channels")
LEGAL_LABEL_KEYS = ("gist", "applies", "caveat")
QUESTION_READERS = frozenset({"already_given"})
# The ID slots a typed number fills (domain.yml, from the IdEntityExtractor's entities).
TYPED_EVIDENCE_SLOTS = frozenset({"tracking_number", "device_sn"})


def _load_question(reader: KnowledgeFileReader, data: Any, where: str) -> Question:
    if not isinstance(data, Mapping):
        raise reader.fail(where, "expected a mapping")
    slot = reader.text(data, "slot", where)
    prefill = data.get("prefill") or {}
    if not isinstance(prefill, Mapping):
        raise reader.fail(where, "`prefill` must have when_yes / when_no lists")
    phrases: dict[str, tuple[str, ...]] = {}
    for key in ("when_yes", "when_no"):
        values = prefill.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise reader.fail(where, f"`prefill.{key}` must be a list of phrases")
        phrases[key] = tuple(values)
    preference = data.get("prefer_when_conflicting")
    if preference is not None and not isinstance(preference, bool):
        raise reader.fail(where, "`prefer_when_conflicting` must be true or false")
    answer_reader = data.get("reader")
    if answer_reader is not None and answer_reader not in QUESTION_READERS:
        raise reader.fail(where, f"`reader` must be one of {sorted(QUESTION_READERS)}")
    return Question(
        slot=slot,
        about=reader.text(data, "about", where),
        yes_phrases=phrases["when_yes"],
        no_phrases=phrases["when_no"],
        prefer_when_conflicting=preference,
        reader=answer_reader,
    )


FOLLOW_UPS_FILE = "follow_ups.yml"


def load_follow_up_topics(path: Path) -> tuple[FollowUpTopic, ...]:
    reader = KnowledgeFileReader(path)
    data = reader.load()
    raw_topics = reader.mapping(data, "topics", "top level")
    topics = []
    for name, raw in raw_topics.items():
        where = f"topics.{name}"
        if not isinstance(raw, Mapping):
            raise reader.fail(where, "expected keywords and default")
        keywords = raw.get("keywords")
        if not isinstance(keywords, list) or not keywords:
            raise reader.fail(where, "`keywords` must be a non-empty list of phrases")
        if not all(isinstance(k, str) and k.strip() for k in keywords):
            raise reader.fail(where, "every keyword must be a non-empty text")
        topics.append(
            FollowUpTopic(
                name=str(name),
                keywords=tuple(k.strip().lower() for k in keywords),
                default=reader.item(raw.get("default"), f"{where}.default"),
            )
        )
    if not topics:
        raise reader.fail("topics", "at least one follow-up topic is required")
    return tuple(topics)


def _load_follow_ups(
    reader: KnowledgeFileReader,
    data: Mapping[str, Any],
    slots: tuple[str, ...],
    topics: frozenset[str],
) -> tuple[FollowUp, ...]:
    follow_ups = []
    for i, raw in enumerate(reader.sequence(data, "follow_ups", "top level")):
        where = f"follow_ups[{i}]"
        base = reader.item(raw, where, slots)
        topic = reader.text(raw, "topic", where)
        if topic not in topics:
            raise reader.fail(where, f"topic {topic!r} is not one of {sorted(topics)}")
        if any(item.topic == topic for item in follow_ups):
            raise reader.fail(where, f"topic {topic!r} is answered twice")
        follow_ups.append(FollowUp(**vars(base), topic=topic))
    return tuple(follow_ups)


def _load_evidence_checklist(
    reader: KnowledgeFileReader, data: Mapping[str, Any], slots: tuple[str, ...]
) -> tuple[EvidenceCheck, ...]:
    checks = []
    for i, raw in enumerate(reader.sequence(data, "evidence_checklist", "top level")):
        where = f"evidence_checklist[{i}]"
        base = reader.item(raw, where, slots)
        typed = raw.get("typed") or ""
        if typed and typed not in TYPED_EVIDENCE_SLOTS:
            raise reader.fail(where, f"`typed` must be one of {sorted(TYPED_EVIDENCE_SLOTS)}")
        checks.append(EvidenceCheck(**vars(base), typed=typed))
    return tuple(checks)


def load_situation(path: Path, follow_up_topics: frozenset[str] | None = None) -> Situation:
    """One situation file; `follow_up_topics` defaults to those of follow_ups.yml beside it."""
    if follow_up_topics is None:
        topics_file = path.parent / FOLLOW_UPS_FILE
        follow_up_topics = (
            frozenset(t.name for t in load_follow_up_topics(topics_file))
            if topics_file.is_file()
            else frozenset()
        )
    reader = KnowledgeFileReader(path)
    data = reader.load()
    name = reader.text(data, "situation", "top level")
    entry = situations().get(name)
    if entry is None or entry.knowledge_file != path.name:
        codes = situations().codes
        raise reader.fail("situation", f"{name!r} must be one of {codes} and match the file")
    questions = tuple(
        _load_question(reader, raw, f"questions[{i}]")
        for i, raw in enumerate(reader.sequence(data, "questions", "top level"))
    )
    if not 1 <= len(questions) <= 2:
        raise reader.fail("questions", "ask one or two follow-up questions")
    slots = tuple(question.slot for question in questions)
    if slots != entry.asks:
        raise reader.fail("questions", f"must ask {entry.asks} (data/situations.yml)")

    def items(key: str) -> tuple[Item, ...]:
        return tuple(
            reader.item(raw, f"{key}[{i}]", slots)
            for i, raw in enumerate(reader.sequence(data, key, "top level"))
        )

    legal = []
    for i, raw in enumerate(reader.sequence(data, "legal", "top level")):
        base = reader.item(raw, f"legal[{i}]", slots)
        law = reader.text(raw, "law", f"legal[{i}]")
        if law not in reader.policy.laws:
            raise reader.fail(f"legal[{i}]", f"{law!r} is not one of the allowed legal points")
        legal.append(
            LegalPoint(
                **vars(base),
                law=law,
                useful_when=reader.text(raw, "applies", f"legal[{i}]"),
                caveat=reader.text(raw, "caveat", f"legal[{i}]"),
            )
        )
    channels = []
    for i, raw in enumerate(reader.sequence(data, "channels", "top level")):
        where = f"channels[{i}]"
        if not isinstance(raw, Mapping):
            raise reader.fail(where, "expected a mapping")
        channel = reader.text(raw, "channel", where)
        if channel not in reader.policy.channels:
            raise reader.fail(where, f"{channel!r} is not an allowed official channel")
        channels.append(
            ChannelUse(
                text=reader.text(raw, "use_when", where),
                source=reader.source(raw, where),
                when=reader.when(raw, where, slots),
                channel=channel,
            )
        )
    steps = items("steps")
    if not steps:
        raise reader.fail("steps", "at least one recommended step is required")
    money_involved = data.get("money_involved")
    if not isinstance(money_involved, bool):
        raise reader.fail("money_involved", "must be true or false")
    return Situation(
        name=name,
        title=reader.text(data, "title", "top level"),
        summary=reader.item(data.get("summary"), "summary"),
        questions=questions,
        causes=items("causes"),
        steps=steps,
        risks=items("risks"),
        legal=tuple(legal),
        evidence=items("evidence"),
        channels=tuple(channels),
        money_involved=money_involved,
        more_steps=items("more_steps"),
        follow_ups=_load_follow_ups(reader, data, slots, follow_up_topics),
        evidence_checklist=_load_evidence_checklist(reader, data, slots),
    )


def load_faq(path: Path) -> dict[str, FaqAnswer]:
    reader = KnowledgeFileReader(path)
    data = reader.load()
    answers: dict[str, FaqAnswer] = {}
    for i, raw in enumerate(reader.sequence(data, "answers", "top level")):
        where = f"answers[{i}]"
        if not isinstance(raw, Mapping):
            raise reader.fail(where, "expected a mapping")
        intent = reader.text(raw, "intent", where)
        if intent not in FAQ_INTENTS or intent in answers:
            raise reader.fail(where, f"intent {intent!r} unknown or answered twice")
        sections = []
        for j, section in enumerate(reader.sequence(raw, "sections", where)):
            section_where = f"{where}.sections[{j}]"
            if not isinstance(section, Mapping):
                raise reader.fail(section_where, "expected a mapping")
            section_items = tuple(
                reader.item(item, f"{section_where}.items[{k}]")
                for k, item in enumerate(reader.sequence(section, "items", section_where))
            )
            if not section_items:
                raise reader.fail(section_where, "a section needs at least one item")
            heading = reader.text(section, "heading", section_where)
            numbered = section.get("numbered", False)
            if not isinstance(numbered, bool):
                raise reader.fail(section_where, "`numbered` must be true or false")
            sections.append(FaqSection(heading=heading, items=section_items, numbered=numbered))
        answers[intent] = FaqAnswer(
            intent=intent,
            title=reader.text(raw, "title", where),
            intro=reader.item(raw.get("intro"), f"{where}.intro"),
            sections=tuple(sections),
        )
    missing = set(FAQ_INTENTS) - set(answers)
    if missing:
        raise reader.fail("answers", f"no answer for {sorted(missing)}")
    return answers


def load_common(path: Path) -> CommonTexts:
    reader = KnowledgeFileReader(path)
    data = reader.load()
    headings_raw = reader.mapping(data, "headings", "top level")
    headings = {key: reader.text(headings_raw, key, "headings") for key in HEADING_KEYS}
    channels_raw = reader.mapping(data, "channels", "top level")
    policy = reader.policy
    if set(channels_raw) != policy.channels:
        raise reader.fail("channels", f"must name exactly {sorted(policy.channels)}")
    channel_names = {key: reader.text(channels_raw, key, "channels") for key in channels_raw}
    next_actions = reader.mapping(data, "next_actions", "top level")
    buttons = []
    for i, raw in enumerate(reader.sequence(next_actions, "buttons", "next_actions")):
        where = f"next_actions.buttons[{i}]"
        if not isinstance(raw, Mapping):
            raise reader.fail(where, "expected title and payload")
        payload = reader.text(raw, "payload", where)
        if not payload.startswith("/"):
            raise reader.fail(where, "payload must be an intent like /open_case")
        buttons.append(Button(title=reader.text(raw, "title", where), payload=payload))
    if not buttons:
        raise reader.fail("next_actions", "at least one button is required")
    more = reader.mapping(data, "more", "top level")
    labels_raw = reader.mapping(more, "legal_labels", "more")
    titles_raw = reader.mapping(data, "law_titles", "top level")
    if set(titles_raw) != policy.laws:
        raise reader.fail("law_titles", f"must name exactly {sorted(policy.laws)}")
    return CommonTexts(
        headings=headings,
        channel_names=channel_names,
        next_actions_prompt=reader.text(next_actions, "prompt", "next_actions"),
        buttons=tuple(buttons),
        anti_fraud_core=reader.text(data, "anti_fraud_core", "top level"),
        offices=reader.text(data, "offices", "top level"),
        details_button=_button(reader, reader.mapping(more, "details_button", "more"), "more"),
        legal_button=_button(reader, reader.mapping(more, "legal_button", "more"), "more"),
        details_prompt=reader.text(more, "details_prompt", "more"),
        details_and_legal_prompt=reader.text(more, "details_and_legal_prompt", "more"),
        legal_intro=reader.text(more, "legal_intro", "more"),
        legal_none=reader.text(more, "legal_none", "more"),
        legal_labels={k: reader.text(labels_raw, k, "legal_labels") for k in LEGAL_LABEL_KEYS},
        law_titles={law: reader.text(titles_raw, law, "law_titles") for law in policy.laws},
    )


def _button(reader: KnowledgeFileReader, raw: Mapping[str, Any], where: str) -> Button:
    payload = reader.text(raw, "payload", where)
    if not payload.startswith("/"):
        raise reader.fail(where, "payload must be an intent like /ask_advice_details")
    return Button(title=reader.text(raw, "title", where), payload=payload)


def load_knowledge_base(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Loads and validates every knowledge file; raises KnowledgeError on the first problem."""
    topics = load_follow_up_topics(directory / FOLLOW_UPS_FILE)
    names = frozenset(topic.name for topic in topics)
    try:
        entries = situations().entries
    except RegistryError as error:
        raise KnowledgeError(str(error)) from error
    return KnowledgeBase(
        situations={
            entry.code: load_situation(directory / entry.knowledge_file, names) for entry in entries
        },
        faq=load_faq(directory / "faq.yml"),
        common=load_common(directory / "common.yml"),
        follow_up_topics=topics,
    )


@lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    """The knowledge base, loaded on first use (never at import time) and then cached."""
    return load_knowledge_base()
