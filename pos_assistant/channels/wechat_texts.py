"""The WeChat channel's user-facing texts, read from data/channels/wechat.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pos_assistant.settings import PROJECT_ROOT

TEXTS_PATH = PROJECT_ROOT / "data" / "channels" / "wechat.yml"


@dataclass(frozen=True)
class WeChatTexts:
    describe_in_text: str
    options_header: str
    option_line: str

    def format_option(self, number: int, title: str) -> str:
        return self.option_line.format(number=number, title=title)


def load_texts(path: Path = TEXTS_PATH) -> WeChatTexts:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [
        name for name in ("describe_in_text", "options_header", "option_line") if not data.get(name)
    ]
    if missing:
        raise ValueError(f"{path} lacks the texts {missing}")
    return WeChatTexts(
        describe_in_text=str(data["describe_in_text"]),
        options_header=str(data["options_header"]),
        option_line=str(data["option_line"]),
    )


@lru_cache(maxsize=1)
def default_texts() -> WeChatTexts:
    return load_texts()
