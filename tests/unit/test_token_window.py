"""The token window: long messages reach the featurizers as their first and last tokens only."""

from __future__ import annotations

import pytest
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu import message_keys
from pos_assistant.nlu.token_window import TokenWindow
from tests.paths import PROJECT_ROOT


def _message(token_count: int) -> Message:
    words = [f"w{index}" for index in range(token_count)]
    tokens, position = [], 0
    for word in words:
        tokens.append(Token(word, position))
        position += len(word) + 1
    return Message(data={TEXT: " ".join(words), TEXT_TOKENS: tokens})


def _words(message: Message) -> list[str]:
    return [token.text for token in message.get(TEXT_TOKENS)]


def test_a_long_message_keeps_its_first_and_last_tokens() -> None:
    message = _message(500)
    TokenWindow(head=64, tail=64).process([message])
    words = _words(message)
    assert len(words) == 128
    assert words[:2] == ["w0", "w1"] and words[63] == "w63"
    assert words[64] == "w436" and words[-1] == "w499"
    assert message.get(TEXT).startswith("w0 w1")  # the text itself is whole for later readers


def test_a_long_message_hands_the_lexical_classifier_the_text_of_the_kept_tokens() -> None:
    message = _message(500)
    TokenWindow(head=3, tail=2).process([message])
    assert message.get(message_keys.WINDOWED_TEXT) == "w0 w1 w2 w498 w499"


@pytest.mark.parametrize("token_count", [1, 39, 128])
def test_a_message_within_the_window_is_untouched(token_count: int) -> None:
    message = _message(token_count)
    TokenWindow(head=64, tail=64).process([message])
    assert _words(message) == [f"w{index}" for index in range(token_count)]
    assert message.get(message_keys.WINDOWED_TEXT) is None


def test_the_configured_window_covers_every_training_and_held_out_message() -> None:
    # Nothing the model learns from or is scored on is cut: every example fits the window.
    import jieba
    from rasa.shared.nlu.training_data.loading import load_data

    window = sum(TokenWindow.get_default_config().values())
    longest = max(
        len([word for word in jieba.cut(example.get(TEXT)) if word.strip()])
        for source in (PROJECT_ROOT / "data" / "nlu", PROJECT_ROOT / "tests/nlu/heldout_nlu.yml")
        for example in load_data(str(source)).training_examples
    )
    assert longest <= window, (longest, window)


def test_a_window_without_a_head_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenWindow(head=0, tail=64)
