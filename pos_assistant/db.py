"""The SQL database of cases and the handoff queue: engine, transactions, Alembic migrations.

The engine is created and the schema migrated (Alembic, to "head") on first use, never at import.
Every database failure surfaces as `StoreUnavailable`. Works on SQLite (development, tests) and
PostgreSQL (production). Times are stored as naive UTC datetimes so both behave the same;
`as_utc` turns them back into aware UTC datetimes for the records handed out.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.pool import StaticPool

from pos_assistant.cases.errors import StoreUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK_ID = 26112601  # PostgreSQL advisory lock: one process migrates at a time

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def as_utc(value: datetime | None) -> datetime | None:
    """Stored naive UTC → aware UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None else None


def identity_hash(*parts: str) -> str:
    """SHA-256 of the parts: conversation ids and client addresses are stored only this way."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def clean_text(value: str | None, max_length: int) -> str | None:
    """Stripped and cut to the column's length; None for nothing."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped[:max_length] if stripped else None


class Database:
    """One database for the process: the engine, made and migrated on first use. Thread-safe."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        timeout_seconds: float | None = None,
        pool_size: int | None = None,
    ) -> None:
        """`timeout_seconds` bounds each wait for the database (SQLite's busy wait; PostgreSQL's
        connect, statement, lock and pool waits); None: SQLite waits 30 s, PostgreSQL 5 s to
        connect, with no other limit. `pool_size`: most connections at once (PostgreSQL)."""
        self._database_url = database_url
        self._clock = clock
        self._timeout_seconds = timeout_seconds
        self._pool_size = pool_size
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    def now(self) -> datetime:
        """The clock's time as stored: naive UTC."""
        return naive_utc(self._clock())

    def _create_engine(self) -> Engine:
        url = make_url(self._database_url)
        if url.get_backend_name() == "sqlite":
            in_memory = url.database in (None, "", ":memory:")
            if not in_memory:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            busy_wait = self._timeout_seconds if self._timeout_seconds is not None else 30
            engine = create_engine(
                url,
                future=True,
                connect_args={"timeout": busy_wait, "check_same_thread": False},
                **({"poolclass": StaticPool} if in_memory else {}),
            )
            _use_immediate_transactions(engine)
            return engine
        return create_engine(url, future=True, pool_pre_ping=True, **self._postgres_limits())

    def _postgres_limits(self) -> dict[str, Any]:
        limits: dict[str, Any] = {}
        if self._pool_size is not None:
            # No overflow: the pool is the bound; a call waits for a free connection instead.
            limits.update(pool_size=self._pool_size, max_overflow=0)
        if self._timeout_seconds is None:
            return {**limits, "connect_args": {"connect_timeout": 5}}
        milliseconds = max(1, int(self._timeout_seconds * 1000))
        return {
            **limits,
            "pool_timeout": self._timeout_seconds,
            "connect_args": {
                # libpq's smallest connect timeout is 2 s.
                "connect_timeout": max(2, math.ceil(self._timeout_seconds)),
                "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}",
            },
        }

    def is_ready(self) -> bool:
        """The engine exists and the schema is migrated (the first call does both)."""
        return self._engine is not None

    def _ready_engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        with self._engine_lock:
            if self._engine is None:
                try:
                    engine = self._create_engine()
                    self._migrate(engine)
                except (SQLAlchemyError, OSError) as error:
                    raise StoreUnavailable(
                        f"case database unavailable: {error.__class__.__name__}"
                    ) from error
                self._engine = engine
        return self._engine

    def _migrate(self, engine: Engine) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self._database_url.replace("%", "%%"))
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Migrating may take longer than one call is allowed to (and may wait for
                # another process's migration).
                connection.execute(text("SET LOCAL statement_timeout = 0"))
                connection.execute(text("SET LOCAL lock_timeout = 0"))
                # Several action-server processes may start at once: migrate one at a time.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction; IntegrityError passes through (callers retry on it)."""
        engine = self._ready_engine()
        try:
            with Session(engine, future=True, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as error:
            raise StoreUnavailable(f"case database error: {error.__class__.__name__}") from error


def _use_immediate_transactions(engine: Engine) -> None:
    """SQLite: take the write lock at BEGIN so concurrent writers wait (busy timeout) instead
    of failing with "database is locked" when a read lock is upgraded (SQLAlchemy's recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
