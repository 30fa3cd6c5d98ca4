"""The one place that reads environment variables.

Values come from the process environment, then from `.env` in the project root (never committed;
`.env.example` documents every variable). Nothing here touches a database or the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def env(name: str, default: str = "") -> str:
    """An environment variable, falling back to `.env`, then to `default`."""
    if name in os.environ:
        return os.environ[name]
    return _read_dotenv(PROJECT_ROOT / ".env").get(name, default)


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_url: str
    rasa_api_token: str
    environment: str
    # WeChat Official Account channel (pos_assistant/channels/wechat.py).
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_appsecret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com/"
    wechat_reply_deadline_seconds: float = 4.0
    # While a conversation waits for a person, a message after this much silence gets a reminder.
    handoff_reminder_seconds: float = 120.0
    # Fernet key(s) for personal slot values in the tracker store (pos_assistant/tracker_store.py);
    # empty: a key generated once per install in var/tracker-encryption.key.
    tracker_encryption_key: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        database_url=env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cases.db'}"),
        rasa_url=env("RASA_URL", "http://localhost:5005"),
        rasa_api_token=env("RASA_API_TOKEN", ""),
        environment=env("APP_ENV", "development"),
        wechat_token=env("WECHAT_TOKEN", ""),
        wechat_appid=env("WECHAT_APPID", ""),
        wechat_appsecret=env("WECHAT_APPSECRET", ""),
        wechat_encoding_aes_key=env("WECHAT_ENCODING_AES_KEY", ""),
        wechat_api_base_url=env("WECHAT_API_BASE_URL", "https://api.weixin.qq.com/"),
        wechat_reply_deadline_seconds=_positive_float(
            "WECHAT_REPLY_DEADLINE_SECONDS", env("WECHAT_REPLY_DEADLINE_SECONDS", "4.0")
        ),
        handoff_reminder_seconds=_positive_float(
            "HANDOFF_REMINDER_SECONDS", env("HANDOFF_REMINDER_SECONDS", "120")
        ),
        tracker_encryption_key=env("TRACKER_ENCRYPTION_KEY", ""),
    )


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {raw!r}")
    return value
