"""Yes, no and skip words have one meaning each (data/yes_no_replies.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_assistant.knowledge import prefill
from pos_assistant.knowledge.prefill import WholeReply, detect_direct_reply, whole_reply


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("是的。", WholeReply.YES),
        ("OK", WholeReply.YES),
        ("没有", WholeReply.NO),
        ("不用了！", WholeReply.NO),
        ("跳过", WholeReply.SKIP),
        ("没有押金", None),
    ],
)
def test_a_whole_reply_has_one_meaning(text: str, meaning: WholeReply | None) -> None:
    assert whole_reply(text) is meaning


def test_no_means_no_to_a_yes_no_question_as_well() -> None:
    assert whole_reply("没有") is WholeReply.NO and detect_direct_reply("没有") is False


def test_a_word_listed_under_two_meanings_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = prefill.REPLY_WORDS_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "yes_no_replies.yml"
    broken.write_text(source.replace("skip: [跳过,", "skip: [没有, 跳过,"), encoding="utf-8")
    monkeypatch.setattr(prefill, "REPLY_WORDS_FILE", broken)
    prefill._reply_words.cache_clear()
    prefill._whole_replies.cache_clear()
    try:
        with pytest.raises(ValueError, match="two meanings"):
            whole_reply("跳过")
    finally:
        prefill._reply_words.cache_clear()
        prefill._whole_replies.cache_clear()
