"""The real servers store and log no personal number readable, and the case still gets the phone.

A conversation over REST opens a case, giving the phone in Chinese numerals with spaces; another
gives a phone in full-width digits, an ID number in full-width digits, a card number with dots, a
code in Chinese numerals and a password. Rasa runs with
LOG_LEVEL=DEBUG, so it logs every message and parse: the log is checked after unescaping the JSON
that structlog writes. The phone typed on turn 3 must still
reach the case created on turn 6 (the tracker is reloaded from the store every turn).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pos_assistant.cases.store import CaseStore
from tests.e2e.stack import RasaStack, running_stack
from tests.security.number_forms import Written, leaks

pytestmark = pytest.mark.e2e

PHONE = Written("phone", "13812345678", "", "一三八 一二三四 五六七八")
SECOND_PHONE = Written("phone", "13912345678", "", "１３９ １２３４ ５６７８")
ID_NUMBER = Written("id_number", "11010119900307123X", "", "１１０１０１１９９００３０７１２３Ｘ")
CARD = Written("card_number", "6222021234567890", "", "6222.0212.3456.7890")
CODE = Written("code", "483920", "", "四八三 九二零")
PASSWORD = Written("password", "Qwe12345xyz", "", "Qwe12345xyz")
SECRETS = (PHONE, SECOND_PHONE, ID_NUMBER, CARD, CODE, PASSWORD)
CASE_NUMBER = re.compile(r"CS\d{10}")


@pytest.fixture(scope="module")
def debug_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    env = {"LOG_LEVEL": "DEBUG", "TRACKER_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    with running_stack(tmp_path_factory.mktemp("masking"), extra_env=env) as stack:
        yield stack


@pytest.fixture(scope="module")
def conversation(debug_stack: RasaStack) -> str:
    """Opens a case and gives every secret away; returns the case number."""
    user = f"masking-{uuid.uuid4().hex[:8]}"
    assert "哪类问题" in debug_stack.texts(user, "我要登记工单")
    assert "手机号" in debug_stack.texts(user, "办机赠品没寄")
    assert "经过" in debug_stack.texts(user, PHONE.raw)
    # A phone in the story would become the contact phone (any phone entity fills the slot).
    assert "跳过" in debug_stack.texts(user, "办机时业务员说送一台电饭煲，一个多月了还没寄")
    assert "138****5678" in debug_stack.texts(user, "没有")
    created = debug_stack.texts(user, "是")
    match = CASE_NUMBER.search(created)
    assert match, created
    other = f"masking-{uuid.uuid4().hex[:8]}"
    for text in (
        f"业务员的电话是{SECOND_PHONE.raw}",
        f"我的身份证号是{ID_NUMBER.raw}",
        f"卡号{CARD.raw}被扣了押金",
        f"对方让我报验证码 {CODE.raw}",
        f"我的密码是{PASSWORD.raw}",
    ):
        debug_stack.texts(other, text)
    return match.group(0)


def _unescaped(text: str) -> str:
    # structlog's JSON lines escape non-ASCII text (\u4e00): read them as people would.
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _leaked(texts: list[str], secret: Written) -> bool:
    # Text by text: the digits of all rows or log lines run together (timestamps, ids) would
    # spell a six-digit code somewhere by chance; one masked text is where a secret would be.
    return any(leaks(text, secret) for text in texts)


def test_the_case_gets_the_phone_typed_turns_before(
    debug_stack: RasaStack, conversation: str
) -> None:
    store = CaseStore(debug_stack.env["DATABASE_URL"])
    try:
        case = store.get_case(conversation)
    finally:
        store.dispose()
    assert case is not None and case.contact_phone == PHONE.secret
    assert not any(leaks(case.description, secret) for secret in SECRETS)


def test_the_tracker_store_holds_no_secret(debug_stack: RasaStack, conversation: str) -> None:
    with sqlite3.connect(debug_stack.workdir / "tracker.db") as connection:
        rows = [data for (data,) in connection.execute("SELECT data FROM events")]
    stored = [_unescaped(row) for row in rows]
    assert any("138****5678" in row for row in stored)  # the transcript is there, masked
    assert [secret.kind for secret in SECRETS if _leaked(stored, secret)] == []


@pytest.mark.parametrize("log_name", ["rasa.log", "actions.log"])
def test_the_logs_hold_no_secret(debug_stack: RasaStack, conversation: str, log_name: str) -> None:
    log = _unescaped((Path(debug_stack.workdir) / log_name).read_text(encoding="utf-8"))
    if log_name == "rasa.log":
        assert "138****5678" in log  # debug logging shows the messages, masked
    assert [secret.kind for secret in SECRETS if _leaked(log.splitlines(), secret)] == []
