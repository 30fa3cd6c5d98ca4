"""The staff tool's console side: accounts from standard input, and the handoff service's rules
(one owner, summaries kept for staff) as the command line sees them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_assistant.cases.store import CaseStore
from pos_assistant.console.accounts import AccountStore, LoginRefused
from pos_assistant.console.models import AgentAccount
from pos_assistant.handoff.models import HandoffRequestRecord
from pos_assistant.settings import Settings
from pos_assistant.staff.cli import main


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    yield store
    store.dispose()


def staff(store: CaseStore, *argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    settings = Settings(
        database_url="unused", rasa_url="http://127.0.0.1:9", rasa_api_token="t", environment="test"
    )
    code = main(
        list(argv),
        store=store,
        settings=settings,
        out=out,
        stdin=io.StringIO(stdin),
        resume=lambda *_: None,
    )
    return code, out.getvalue()


def test_an_account_gets_its_password_from_stdin_stored_as_argon2id(store: CaseStore) -> None:
    code, out = staff(store, "agents", "add", "小王", "--role", "lead", stdin="a long secret 1\n")
    assert code == 0, out
    with store.database.transaction() as session:
        stored = session.execute(select(AgentAccount)).scalar_one().password_hash
    assert stored.startswith("$argon2id$") and "a long secret 1" not in stored
    login = AccountStore(store).login("小王", "a long secret 1", "127.0.0.1")
    assert login.account.role == "lead"
    assert staff(store, "agents", "list")[1].strip() == "小王  lead  active"


def test_bad_accounts_are_refused(store: CaseStore) -> None:
    assert staff(store, "agents", "add", "a", stdin="short\n")[0] == 1
    assert staff(store, "agents", "add", " a", stdin="long enough pw\n")[0] == 1
    assert staff(store, "agents", "add", "a", stdin="long enough pw\n")[0] == 0
    assert staff(store, "agents", "add", "a", stdin="long enough pw\n")[0] == 1  # exists


def test_a_disabled_account_cannot_log_in(store: CaseStore) -> None:
    staff(store, "agents", "add", "a", stdin="long enough pw\n")
    assert staff(store, "agents", "disable", "a")[0] == 0
    with pytest.raises(LoginRefused):
        AccountStore(store).login("a", "long enough pw", "127.0.0.1")
    assert staff(store, "agents", "enable", "a")[0] == 0
    assert AccountStore(store).login("a", "long enough pw", "127.0.0.1").account.username == "a"


def test_the_command_line_respects_the_owner_and_keeps_the_summary(store: CaseStore) -> None:
    store.handoffs.enqueue("web:s1", channel="socketio", summary="x")
    assert staff(store, "handoff", "take", "web:s1", "--agent", "小王")[0] == 0
    code, out = staff(store, "handoff", "take", "web:s1", "--agent", "小李")
    assert code == 1 and "taken by 小王" in out
    assert staff(store, "handoff", "reply", "web:s1", "你好", "--agent", "小李")[0] == 1
    assert staff(store, "handoff", "take", "web:s1", "--agent", "小李", "--reassign")[0] == 0
    assert staff(store, "handoff", "release", "web:s1", "--summary", "已处理")[0] == 0
    with store.database.transaction() as session:
        record = session.execute(select(HandoffRequestRecord)).scalar_one()
    assert (record.status, record.taken_by, record.release_summary) == (
        "released",
        "小李",
        "已处理",
    )
