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
    # What a user handed over to a person is told: the usual wait, and when agents work
    # ("09:00-21:00", Beijing time; pos_assistant/working_hours.py).
    handoff_expected_wait_minutes: int = 10
    handoff_hours: str = "09:00-21:00"
    # Minutes a taken conversation may go without a reply from its agent before it goes back to
    # the queue (and the customer is told); the agent console checks every minute.
    handoff_agent_timeout: int = 30
    # Channels: longer messages get a "please shorten" reply and never reach the NLU.
    max_message_chars: int = 1000
    # Largest request body the Rasa server reads (REST, socket.io; WeChat has its own 64 KB).
    max_request_bytes: int = 256 * 1024
    # Bearer token of the REST channel; required in production, optional in development.
    rest_api_token: str = ""
    # Addresses (or networks) of the reverse proxies in front of the servers, whose
    # X-Forwarded-For is believed; empty: the peer address is the client address.
    trusted_proxies: tuple[str, ...] = ()
    # Where the action server listens: loopback unless a private address is set for production.
    action_host: str = "127.0.0.1"
    # Case access and abuse limits (pos_assistant/rate_limits.py, docs/security.md).
    case_verification_minutes: int = 30
    lookup_failures_per_case: int = 3
    lookup_lock_minutes: int = 15
    lookup_failures_per_conversation: int = 6
    lookup_failures_per_address: int = 20
    lookup_identity_window_minutes: int = 60
    cases_per_conversation: int = 3
    cases_per_address: int = 20
    handoffs_per_conversation: int = 5
    handoffs_per_address: int = 30
    rate_limit_window_minutes: int = 1440
    # Fernet key(s) for personal slot values in the tracker store (pos_assistant/tracker_store.py);
    # empty: a key generated once per install in var/tracker-encryption.key.
    tracker_encryption_key: str = ""
    # Agent console (pos_assistant/console/): where it listens, how long a login lasts, how many
    # failed logins per name or address in the window before logins are refused for a while.
    console_host: str = "127.0.0.1"
    console_port: int = 8001
    console_session_minutes: int = 480
    console_login_failures: int = 5
    console_login_window_minutes: int = 15
    # Key that signs console session cookies; empty: one generated per install in var/.
    console_secret_key: str = ""
    # How long the Rasa server waits for the action server before it apologises
    # (pos_assistant/action_timeouts.py); Rasa's own default is 5 minutes. With the NLU and the
    # apology itself, the user hears back within 10 s even on a loaded machine.
    action_timeout_seconds: float = 6.0
    # One case-store call from an action (pos_assistant/cases/deadline.py, pos_assistant/db.py):
    # the longest it may wait for the database, and how many calls (and database connections)
    # one process has at once. Shorter than ACTION_TIMEOUT_SECONDS, so the user is told which
    # part failed ("工单系统暂时连不上") rather than the general apology.
    case_store_timeout_seconds: float = 3.0
    # Turns one Rasa server works on at once, and messages that may wait for a place
    # (pos_assistant/turn_admission.py).
    rasa_concurrent_turns: int = 16
    rasa_waiting_turns: int = 1000
    case_store_pool_size: int = 8
    # WeChat messages sent after the user's turn (pos_assistant/channels/wechat_outbox.py): the
    # first retry after this many seconds, doubling; failed after this many attempts.
    outbox_first_retry_seconds: float = 5.0
    outbox_max_attempts: int = 12
    # Websites (scheme://host[:port]) whose pages may embed the chat widget (web/embedding.py);
    # the relay's own demo page needs no entry.
    widget_allowed_origins: tuple[str, ...] = ()
    # Evidence photos (pos_assistant/attachments/): size of one file, files per message, files
    # per minute and per day from one conversation or address; where they are stored.
    photo_max_bytes: int = 10 * 1024 * 1024
    photos_per_message: int = 5
    photo_uploads_per_minute: int = 20
    photo_uploads_per_day: int = 200
    attachment_storage: str = "local"
    attachments_dir: str = str(VAR_DIR / "attachments")

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
        handoff_expected_wait_minutes=_positive_int("handoff_expected_wait_minutes"),
        handoff_hours=_working_hours(env("HANDOFF_HOURS", Settings.handoff_hours)),
        handoff_agent_timeout=_positive_int("handoff_agent_timeout"),
        max_message_chars=_positive_int("max_message_chars"),
        max_request_bytes=_positive_int("max_request_bytes"),
        rest_api_token=env("REST_API_TOKEN", ""),
        trusted_proxies=_list("TRUSTED_PROXY"),
        action_host=env("ACTION_HOST", "127.0.0.1") or "127.0.0.1",
        case_verification_minutes=_positive_int("case_verification_minutes"),
        lookup_failures_per_case=_positive_int("lookup_failures_per_case"),
        lookup_lock_minutes=_positive_int("lookup_lock_minutes"),
        lookup_failures_per_conversation=_positive_int("lookup_failures_per_conversation"),
        lookup_failures_per_address=_positive_int("lookup_failures_per_address"),
        lookup_identity_window_minutes=_positive_int("lookup_identity_window_minutes"),
        cases_per_conversation=_positive_int("cases_per_conversation"),
        cases_per_address=_positive_int("cases_per_address"),
        handoffs_per_conversation=_positive_int("handoffs_per_conversation"),
        handoffs_per_address=_positive_int("handoffs_per_address"),
        rate_limit_window_minutes=_positive_int("rate_limit_window_minutes"),
        tracker_encryption_key=env("TRACKER_ENCRYPTION_KEY", ""),
        console_host=env("CONSOLE_HOST", "127.0.0.1") or "127.0.0.1",
        console_port=_positive_int("console_port"),
        console_session_minutes=_positive_int("console_session_minutes"),
        console_login_failures=_positive_int("console_login_failures"),
        console_login_window_minutes=_positive_int("console_login_window_minutes"),
        console_secret_key=env("CONSOLE_SECRET_KEY", ""),
        action_timeout_seconds=_positive_float(
            "ACTION_TIMEOUT_SECONDS",
            env("ACTION_TIMEOUT_SECONDS", str(Settings.action_timeout_seconds)),
        ),
        case_store_timeout_seconds=_positive_float(
            "CASE_STORE_TIMEOUT_SECONDS",
            env("CASE_STORE_TIMEOUT_SECONDS", str(Settings.case_store_timeout_seconds)),
        ),
        case_store_pool_size=_positive_int("case_store_pool_size"),
        rasa_concurrent_turns=_positive_int("rasa_concurrent_turns"),
        rasa_waiting_turns=_positive_int("rasa_waiting_turns"),
        outbox_first_retry_seconds=_positive_float(
            "OUTBOX_FIRST_RETRY_SECONDS",
            env("OUTBOX_FIRST_RETRY_SECONDS", str(Settings.outbox_first_retry_seconds)),
        ),
        outbox_max_attempts=_positive_int("outbox_max_attempts"),
        widget_allowed_origins=_list("WIDGET_ALLOWED_ORIGINS"),
        photo_max_bytes=_positive_int("photo_max_bytes"),
        photos_per_message=_positive_int("photos_per_message"),
        photo_uploads_per_minute=_positive_int("photo_uploads_per_minute"),
        photo_uploads_per_day=_positive_int("photo_uploads_per_day"),
        attachment_storage=env("ATTACHMENT_STORAGE", "local") or "local",
        attachments_dir=env("ATTACHMENTS_DIR", "") or str(VAR_DIR / "attachments"),
    )


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated setting."""
    return tuple(part.strip() for part in env(name, "").split(",") if part.strip())


def _positive_int(field: str) -> int:
    """A whole-number setting: the variable is the field's name in capitals, the default is the
    field's own (one place for each number)."""
    name = field.upper()
    default = str(getattr(Settings, field))
    raw = env(name, default) or default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _working_hours(raw: str) -> str:
    from pos_assistant.working_hours import WorkingHours

    WorkingHours.parse(raw)  # fails fast on a malformed value
    return raw.strip()


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {raw!r}")
    return value
