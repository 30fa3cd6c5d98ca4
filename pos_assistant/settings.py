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
    )
