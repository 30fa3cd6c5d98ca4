"""The action server's host and the case limits come from settings, with safe defaults."""

from __future__ import annotations

import pytest

from pos_assistant import settings as settings_module
from pos_assistant.action_server import build_parser, listen_host
from pos_assistant.cases.provider import abuse_limits


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings_module, "_read_dotenv", lambda path: {})
    settings_module.get_settings.cache_clear()
    yield monkeypatch
    settings_module.get_settings.cache_clear()


def test_the_action_server_listens_on_loopback_unless_told_otherwise(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    fresh_settings.delenv("ACTION_HOST", raising=False)
    assert listen_host(None) == "127.0.0.1"
    assert listen_host("10.0.0.5") == "10.0.0.5"
    settings_module.get_settings.cache_clear()
    fresh_settings.setenv("ACTION_HOST", "10.0.0.7")
    assert listen_host(None) == "10.0.0.7"
    args = build_parser().parse_args(["--port", "5099"])
    assert (args.port, args.actions, args.host, args.cors) == (5099, "actions", None, None)


def test_limits_reach_the_store_and_bad_values_are_refused(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    fresh_settings.setenv("CASES_PER_CONVERSATION", "7")
    fresh_settings.setenv("LOOKUP_FAILURES_PER_ADDRESS", "40")
    limits = abuse_limits(settings_module.get_settings())
    assert (limits.cases_per_conversation, limits.lookup_failures_per_address) == (7, 40)
    assert limits.lookup_failures_per_conversation == 6
    for bad in ("0", "-1", "many"):
        settings_module.get_settings.cache_clear()
        fresh_settings.setenv("HANDOFFS_PER_CONVERSATION", bad)
        with pytest.raises(ValueError, match="HANDOFFS_PER_CONVERSATION"):
            settings_module.get_settings()
