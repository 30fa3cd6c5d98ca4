"""Turns a situation plus the user's follow-up answers into a few chat-sized messages.

Messages are plain text with short paragraphs and numbered steps (works in the web widget and in
WeChat). Sections are packed into messages of at most MAX_MESSAGE_CHARS characters; the last
message carries the quick-reply buttons (登记工单 / 查询进度 / 转人工).
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


def _with_buttons(texts: list[str], common: CommonTexts) -> list[RenderedMessage]:
    messages = [RenderedMessage(text=text) for text in texts]
    last = messages[-1]
    messages[-1] = RenderedMessage(text=last.text, buttons=common.buttons)
    return messages


def render_situation(
    situation: Situation, answers: Answers, common: CommonTexts
) -> list[RenderedMessage]:
    """The advice for this situation and these answers (True/False/None per question slot)."""
    headings = common.headings
    channel_lines = [
        f"{common.channel_names[use.channel]}：{use.text}"
        for use in _applicable(situation.channels, answers)
    ]
    blocks = [
        f"【{situation.title}】\n{situation.summary.text}",
        _bullets(headings["causes"], (i.text for i in _applicable(situation.causes, answers))),
        _numbered(headings["steps"], (i.text for i in _applicable(situation.steps, answers))),
        _bullets(headings["risks"], (i.text for i in _applicable(situation.risks, answers))),
        _bullets(headings["legal"], (i.text for i in _applicable(situation.legal, answers))),
        _bullets(headings["evidence"], (i.text for i in _applicable(situation.evidence, answers))),
        _bullets(headings["channels"], channel_lines),
        common.next_actions_prompt,
    ]
    return _with_buttons(pack_blocks(blocks), common)


def render_faq(answer: FaqAnswer, common: CommonTexts) -> list[RenderedMessage]:
    blocks: list[str | None] = [f"【{answer.title}】\n{answer.intro.text}"]
    for section in answer.sections:
        items = [item.text for item in section.items]
        render = _numbered if section.numbered else _bullets
        blocks.append(render(section.heading, items))
    blocks.append(common.next_actions_prompt)
    return _with_buttons(pack_blocks(blocks), common)
