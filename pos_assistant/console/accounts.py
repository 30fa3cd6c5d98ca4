"""Agent and lead accounts: Argon2id passwords, login rate limits, server-side sessions.

A session id is 32 random bytes; the database keeps only its SHA-256, so a copy of the database
cannot be used to log in. The CSRF token is per session and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from pos_assistant.cases.store import CaseStore
from pos_assistant.console.models import AgentAccount, AgentTopic, ConsoleSession
from pos_assistant.rate_limits import RateCounter

ROLES = ("agent", "lead")
ADDRESS_SCOPE = "console-login:address"
ADDRESS_FACTOR = 4
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
_USERNAME_CHARS = 64
_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
# Checked for unknown names too, so a wrong name costs as long as a wrong password.
_UNKNOWN_USER_HASH = _HASHER.hash(secrets.token_hex(16))


class AccountError(Exception):
    """A request about accounts the store refuses (the message says why, in English)."""


class LoginRefused(Exception):
    """Wrong name or password, or a disabled account: one error, so names cannot be probed."""


class LoginRateLimited(Exception):
    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed logins, retry after {retry_at.isoformat()}")
        self.retry_at = retry_at


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    is_disabled: bool

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


@dataclass(frozen=True)
class Login:
    session_id: str
    csrf_token: str
    account: Account
    expires_at: datetime


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _account(record: AgentAccount) -> Account:
    return Account(record.username, record.role, bool(record.is_disabled))


def valid_username(username: str) -> bool:
    return (
        0 < len(username) <= _USERNAME_CHARS
        and username.isprintable()
        and username.strip() == username
    )


class AccountStore:
    def __init__(
        self,
        store: CaseStore,
        *,
        session_minutes: int = 480,
        login_failures: int = 5,
        login_window_minutes: int = 15,
    ) -> None:
        self._store = store
        self._session_length = timedelta(minutes=session_minutes)
        self._login_failures = login_failures
        self._login_window = timedelta(minutes=login_window_minutes)

    # ------------------------------------------------------------------ accounts

    def add(self, username: str, password: str, role: str) -> Account:
        if not valid_username(username):
            raise AccountError("the name must be 1-64 printable characters without outer spaces")
        if role not in ROLES:
            raise AccountError(f"the role must be one of {', '.join(ROLES)}")
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise AccountError(
                f"the password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
            )
        with self._store.database.transaction() as session:
            if session.execute(
                select(AgentAccount).where(AgentAccount.username == username)
            ).scalar_one_or_none():
                raise AccountError(f"an account named {username!r} exists already")
            now = self._store.database.now()
            record = AgentAccount(
                username=username,
                password_hash=_HASHER.hash(password),
                role=role,
                is_disabled=0,
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            return _account(record)

    def set_disabled(self, username: str, disabled: bool) -> Account:
        """Disables (or enables again) an account; disabling ends its sessions at once."""
        with self._store.database.transaction() as session:
            record = session.execute(
                select(AgentAccount).where(AgentAccount.username == username).with_for_update()
            ).scalar_one_or_none()
            if record is None:
                raise AccountError(f"no account named {username!r}")
            record.is_disabled = int(disabled)
            record.updated_at = self._store.database.now()
            if disabled:
                session.execute(delete(ConsoleSession).where(ConsoleSession.username == username))
            return _account(record)

    def list_accounts(self) -> list[Account]:
        with self._store.database.transaction() as session:
            rows = session.execute(select(AgentAccount).order_by(AgentAccount.username))
            return [_account(record) for record in rows.scalars()]

    def set_topics(self, username: str, topics: list[str]) -> list[str]:
        """Routes these topics (case category codes, checked by the caller) to the agent."""
        with self._store.database.transaction() as session:
            if not session.execute(
                select(AgentAccount).where(AgentAccount.username == username)
            ).scalar_one_or_none():
                raise AccountError(f"no account named {username!r}")
            session.execute(delete(AgentTopic).where(AgentTopic.username == username))
            for topic in sorted(set(topics)):
                session.add(AgentTopic(username=username, topic=topic))
        return sorted(set(topics))

    def topics(self) -> dict[str, list[str]]:
        """Every agent's routed topics."""
        found: dict[str, list[str]] = {}
        with self._store.database.transaction() as session:
            rows = session.execute(select(AgentTopic).order_by(AgentTopic.topic))
            for row in rows.scalars():
                found.setdefault(row.username, []).append(row.topic)
        return found

    def get(self, username: str) -> Account | None:
        with self._store.database.transaction() as session:
            record = session.execute(
                select(AgentAccount).where(AgentAccount.username == username)
            ).scalar_one_or_none()
            return _account(record) if record else None

    # ------------------------------------------------------------------ login and sessions

    def login(self, username: str, password: str, client_address: str) -> Login:
        """Checks the password (after the rate limit) and opens a session."""
        keys = [
            ("console-login:name", username[:_USERNAME_CHARS]),
            (ADDRESS_SCOPE, client_address),
        ]
        self._ensure_not_limited(keys)
        with self._store.database.transaction() as session:
            record = session.execute(
                select(AgentAccount).where(AgentAccount.username == username)
            ).scalar_one_or_none()
        if not self._password_matches(record, password):
            self._count_failure(keys)
            raise LoginRefused()
        assert record is not None
        if record.is_disabled:
            self._count_failure(keys)
            raise LoginRefused()
        if _HASHER.check_needs_rehash(record.password_hash):
            self._rehash(record.username, password)
        session_id, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._store.database.now()
        expires_at = now + self._session_length
        with self._store.database.transaction() as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
            session.add(
                ConsoleSession(
                    session_hash=_digest(session_id),
                    username=record.username,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return Login(session_id, csrf_token, _account(record), expires_at)

    def session(self, session_id: str) -> tuple[Account, str] | None:
        """The account and CSRF token of a live session; None when expired, unknown or the
        account was disabled."""
        with self._store.database.transaction() as session:
            row = session.execute(
                select(ConsoleSession, AgentAccount)
                .join(AgentAccount, AgentAccount.username == ConsoleSession.username)
                .where(ConsoleSession.session_hash == _digest(session_id))
            ).first()
            if row is None:
                return None
            login, record = row
            if login.expires_at <= self._store.database.now() or record.is_disabled:
                return None
            return _account(record), login.csrf_token

    def logout(self, session_id: str) -> None:
        with self._store.database.transaction() as session:
            session.execute(
                delete(ConsoleSession).where(ConsoleSession.session_hash == _digest(session_id))
            )

    @staticmethod
    def csrf_matches(expected: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _password_matches(record: AgentAccount | None, password: str) -> bool:
        try:
            return _HASHER.verify(record.password_hash if record else _UNKNOWN_USER_HASH, password)
        except (VerificationError, InvalidHashError):
            return False

    def _rehash(self, username: str, password: str) -> None:
        with self._store.database.transaction() as session:
            record = session.execute(
                select(AgentAccount).where(AgentAccount.username == username)
            ).scalar_one()
            record.password_hash = _HASHER.hash(password)

    def _counter_key(self, scope: str, value: str) -> str:
        return _digest(f"{scope}\x1f{value}")

    def _limit(self, scope: str) -> int:
        # One address is often a whole office behind a proxy: it gets more tries than one name,
        # so one person's typos do not lock out colleagues, while guessing across names stops.
        if scope == ADDRESS_SCOPE:
            return self._login_failures * ADDRESS_FACTOR
        return self._login_failures

    def _ensure_not_limited(self, keys: list[tuple[str, str]]) -> None:
        now = self._store.database.now()
        with self._store.database.transaction() as session:
            for scope, value in keys:
                counter = session.get(RateCounter, (scope, self._counter_key(scope, value)))
                if counter is None:
                    continue
                window_end = counter.window_started + self._login_window
                if window_end > now and counter.count >= self._limit(scope):
                    raise LoginRateLimited(window_end)

    def _count_failure(self, keys: list[tuple[str, str]]) -> None:
        now = self._store.database.now()
        with self._store.database.transaction() as session:
            for scope, value in keys:
                key = (scope, self._counter_key(scope, value))
                counter = session.get(RateCounter, key, with_for_update=True)
                if counter is None:
                    session.add(
                        RateCounter(scope=scope, key_hash=key[1], window_started=now, count=1)
                    )
                elif counter.window_started + self._login_window <= now:
                    counter.window_started, counter.count = now, 1
                else:
                    counter.count += 1
