"""Turns a situation plus the user's follow-up answers into messages that read well on a phone.

A situation answer is two bubbles: the summary and the numbered steps (under FIRST_BUBBLE_CHARS),
then the anti-fraud core, who handles what and the quick replies (详细说明 / 法律依据 / 登记工单 /
查询进度 / 转人工; WeChat shows them as numbered options). Causes, risks, evidence, channels and
the law come only when asked for. Plain text throughout, so the web widget and WeChat show the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pos_assistant.knowledge.models import (
    Answers,
    Button,
    CommonTexts,
    FaqAnswer,
    Item,
    Situation,
)

MAX_MESSAGE_CHARS = 500
# A phone shows about this much without scrolling; the steps bubble must fit (tests enforce it).
FIRST_BUBBLE_CHARS = 300
_BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    buttons: tuple[Button, ...] = ()


def _bullets(heading: str, lines: Iterable[str]) -> str | None:
    lines = list(lines)
    return heading + "\n" + "\n".join(f"· {line}" for line in lines) if lines else None


def _numbered(heading: str, lines: Iterable[str]) -> str | None:
    lines = list(lines)
    if not lines:
        return None
    return heading + "\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


def _applicable(items: Iterable[Item], answers: Answers) -> list[Item]:
    return [item for item in items if item.applies(answers)]


def _split_long_block(block: str) -> list[str]:
    """Splits a block longer than one message at line ends (never inside a line if avoidable)."""
    parts: list[str] = []
    current = ""
    for line in block.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= MAX_MESSAGE_CHARS:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line) > MAX_MESSAGE_CHARS:
            parts.append(line[:MAX_MESSAGE_CHARS])
            line = line[MAX_MESSAGE_CHARS:]
        current = line
    if current:
        parts.append(current)
    return parts


def pack_blocks(blocks: Iterable[str | None]) -> list[str]:
    """Joins blocks into as few messages as fit, keeping every block whole where possible."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        for piece in _split_long_block(block) if len(block) > MAX_MESSAGE_CHARS else [block]:
            candidate = f"{current}{_BLOCK_SEPARATOR}{piece}" if current else piece
            if len(candidate) <= MAX_MESSAGE_CHARS:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _with_buttons(texts: list[str], buttons: tuple[Button, ...]) -> list[RenderedMessage]:
    messages = [RenderedMessage(text=text) for text in texts]
    last = messages[-1]
    messages[-1] = RenderedMessage(text=last.text, buttons=buttons)
    return messages


def _steps_bubble(situation: Situation, answers: Answers) -> str:
    """A one-line summary, then the numbered steps, most urgent first (the file's order)."""
    steps = [item.text for item in _applicable(situation.steps, answers)]
    lines = [f"【{situation.title}】{situation.summary.text}"]
    lines += [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    return "\n".join(lines)


def has_legal_points(situation: Situation, answers: Answers) -> bool:
    return bool(_applicable(situation.legal, answers))


def _more_buttons(situation: Situation, answers: Answers, common: CommonTexts) -> tuple:
    legal = (common.legal_button,) if has_legal_points(situation, answers) else ()
    return (common.details_button, *legal, *common.buttons)


def render_situation(
    situation: Situation, answers: Answers, common: CommonTexts, include_core: bool = True
) -> list[RenderedMessage]:
    """The answer a phone shows: the steps bubble, then one bubble with the anti-fraud core, who
    handles what and the quick replies. Causes, evidence, channels and law come on request.

    `include_core=False` only when the scam warning (which holds the core) went out in the same
    reply, so that the user does not read it twice in a row.
    """
    prompt = (
        common.details_and_legal_prompt
        if has_legal_points(situation, answers)
        else common.details_prompt
    )
    second = [common.anti_fraud_core] if situation.money_involved and include_core else []
    second += [common.offices, prompt]
    return [
        RenderedMessage(text=_steps_bubble(situation, answers)),
        RenderedMessage(text="\n".join(second), buttons=_more_buttons(situation, answers, common)),
    ]


def render_details(
    situation: Situation, answers: Answers, common: CommonTexts
) -> list[RenderedMessage]:
    """The "详细说明" answer: causes, further steps, risks, evidence and channels."""
    headings = common.headings
    channel_lines = [
        f"{common.channel_names[use.channel]}：{use.text}"
        for use in _applicable(situation.channels, answers)
    ]
    blocks = [
        f"【{situation.title}·{common.details_button.title}】",
        _bullets(headings["causes"], (i.text for i in _applicable(situation.causes, answers))),
        _bullets(
            headings["more_steps"], (i.text for i in _applicable(situation.more_steps, answers))
        ),
        _bullets(headings["risks"], (i.text for i in _applicable(situation.risks, answers))),
        _bullets(headings["evidence"], (i.text for i in _applicable(situation.evidence, answers))),
        _bullets(headings["channels"], channel_lines),
    ]
    legal = (common.legal_button,) if has_legal_points(situation, answers) else ()
    return _with_buttons(pack_blocks(blocks), (*legal, *common.buttons))


def render_legal(
    situation: Situation, answers: Answers, common: CommonTexts
) -> list[RenderedMessage]:
    """The "法律依据" answer: each applicable point in summary (大意), when it helps, caveats."""
    labels = common.legal_labels
    points = _applicable(situation.legal, answers)
    intro = common.legal_intro if points else common.legal_none
    blocks: list[str | None] = [f"【{situation.title}·{common.legal_button.title}】\n{intro}"]
    for point in points:
        blocks.append(
            f"{common.law_titles[point.law]}{labels['gist']}{point.text}\n"
            f"{labels['applies']}{point.useful_when}\n{labels['caveat']}{point.caveat}"
        )
    return _with_buttons(pack_blocks(blocks), (common.details_button, *common.buttons))


def render_faq(answer: FaqAnswer, common: CommonTexts) -> list[RenderedMessage]:
    blocks: list[str | None] = [f"【{answer.title}】\n{answer.intro.text}"]
    for section in answer.sections:
        items = [item.text for item in section.items]
        render = _numbered if section.numbered else _bullets
        blocks.append(render(section.heading, items))
    blocks.append(common.next_actions_prompt)
    return _with_buttons(pack_blocks(blocks), common.buttons)
