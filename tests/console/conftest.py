"""Shared pieces of the console tests: the app on a real SQLite store with a settable clock, and
a recorded stand-in for Rasa (the end-to-end tests use the real one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_assistant.cases.store import CaseStore
from pos_assistant.handoff.service import HandoffService
from pos_assistant.settings import Settings
from tests.console.server import Clock, RasaStandIn, RunningConsole, running_console


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rasa() -> RasaStandIn:
    return RasaStandIn()


@pytest.fixture
def console(tmp_path: Path, clock: Clock, rasa: RasaStandIn) -> Iterator[RunningConsole]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}", clock=clock)
    settings = Settings(
        database_url="unused",
        rasa_url="http://127.0.0.1:9",
        rasa_api_token="t",
        environment="test",
        attachments_dir=str(tmp_path / "attachments"),
    )
    handoffs = HandoffService(store, settings, resume=rasa.resume, send=rasa.send, fetch=rasa.fetch)
    with running_console(store, settings, handoffs) as running:
        running.add_account("lead1", "lead")
        running.add_account("agent1")
        running.add_account("agent2")
        yield running
    store.dispose()
