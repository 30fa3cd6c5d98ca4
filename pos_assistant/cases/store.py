"""CaseStore: cases, their timeline, lookup verification with lockout, and the handoff queue.

The engine is created and the schema migrated (Alembic, to "head") on first use, never at import.
Every database failure surfaces as `StoreUnavailable`; business outcomes have their own errors
(see errors.py). Works on SQLite (development, tests) and PostgreSQL (production).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from pos_assistant.cases.errors import (
    AccessDenied,
    CaseNotFound,
    CaseNotOpen,
    CaseStoreError,
    HandoffNotFound,
    HandoffTakenByOther,
    InvalidCaseData,
    InvalidStatusTransition,
    LookupLocked,
    RateLimited,
    StoreUnavailable,
    VerificationFailed,
)
from pos_assistant.cases.identifiers import (
    mask_phone,
    new_case_number,
    normalize_case_number,
    normalize_phone,
)
from pos_assistant.cases.models import (
    CaseEventRecord,
    CaseRecord,
    CaseVerification,
    HandoffRequestRecord,
    LookupGuard,
    RateCounter,
)
from pos_assistant.cases.records import Case, HandoffRequest, NewCase, as_utc
from pos_assistant.cases.vocabulary import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    CaseCategory,
    CaseStatus,
    HandoffStatus,
)
from pos_assistant.identity import trusted_identity
from pos_assistant.settings import Settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Times shown to users and staff are China Standard Time (no DST).
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
_MIGRATION_LOCK_ID = 26112601  # PostgreSQL advisory lock: one process migrates at a time
_MAX_CONVERSATION_ID = 128  # longer ids are never case openers (the column would cut them)


@dataclass(frozen=True)
class AbuseLimits:
    """How much one identity (conversation id, client address) may do; settings.py names them."""

    # The defaults are the settings' own (one place for each number).
    verification_minutes: int = Settings.case_verification_minutes
    lookup_failures_per_conversation: int = Settings.lookup_failures_per_conversation
    # Higher: behind a carrier or office NAT many people share one address.
    lookup_failures_per_address: int = Settings.lookup_failures_per_address
    lookup_identity_window_minutes: int = Settings.lookup_identity_window_minutes
    cases_per_conversation: int = Settings.cases_per_conversation
    cases_per_address: int = Settings.cases_per_address
    handoffs_per_conversation: int = Settings.handoffs_per_conversation
    handoffs_per_address: int = Settings.handoffs_per_address
    window_minutes: int = Settings.rate_limit_window_minutes


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _identities(conversation_id: str, client_address: str | None) -> list[tuple[str, str]]:
    """(kind, value) of who is asking: always the conversation, the client address if known."""
    found = [("conversation", conversation_id)]
    if client_address:
        found.append(("address", client_address[:256]))
    return found


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _clean(value: str | None, max_length: int) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped[:max_length] if stripped else None


def content_fingerprint(new_case: NewCase) -> str:
    """Same user + same submitted data → same fingerprint (finds re-submitted forms)."""
    parts = [
        new_case.channel,
        new_case.channel_user_id,
        new_case.category,
        new_case.contact_phone,
        new_case.description.strip(),
        new_case.brand or "",
        new_case.device_serial or "",
        new_case.tracking_number or "",
        new_case.amount or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class CaseStore:
    """Persistence of cases and handoff requests. Thread-safe; one instance per process."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_failed_attempts: int = 3,
        lock_minutes: int = 15,
        duplicate_window_minutes: int = 10,
        connect_timeout_seconds: int = 5,
        limits: AbuseLimits | None = None,
    ) -> None:
        self._database_url = database_url
        self._clock = clock
        self._max_failed_attempts = max_failed_attempts
        self._lock_duration = timedelta(minutes=lock_minutes)
        self._limits = limits or AbuseLimits()
        self._duplicate_window = timedelta(minutes=duplicate_window_minutes)
        self._connect_timeout_seconds = connect_timeout_seconds
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    # ------------------------------------------------------------------ engine and schema

    def _create_engine(self) -> Engine:
        url = make_url(self._database_url)
        if url.get_backend_name() == "sqlite":
            in_memory = url.database in (None, "", ":memory:")
            if not in_memory:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                future=True,
                connect_args={"timeout": 30, "check_same_thread": False},
                **({"poolclass": StaticPool} if in_memory else {}),
            )
            _use_immediate_transactions(engine)
            return engine
        return create_engine(
            url,
            future=True,
            pool_pre_ping=True,
            connect_args={"connect_timeout": self._connect_timeout_seconds},
        )

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
    def _transaction(self) -> Iterator[Session]:
        engine = self._ready_engine()
        try:
            with Session(engine, future=True, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except DBAPIError as error:
            raise StoreUnavailable(f"case database error: {error.__class__.__name__}") from error
        except SQLAlchemyError as error:
            raise StoreUnavailable(f"case database error: {error.__class__.__name__}") from error

    def _now(self) -> datetime:
        return _naive_utc(self._clock())

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        """A transaction on this database, for modules that keep their own tables in it (the
        agent console's accounts and audit log); errors surface as StoreUnavailable."""
        return self._transaction()

    def now(self) -> datetime:
        """This store's clock, naive UTC as stored."""
        return self._now()

    # ------------------------------------------------------------------ cases

    def create_case(self, new_case: NewCase, *, client_address: str | None = None) -> Case:
        """Writes a case and returns it; a repeated submission returns the first case instead.

        The opening conversation is verified for the case (for `verification_minutes`).
        Raises RateLimited when this conversation or client address opened too many cases.
        """
        conversation_id = new_case.channel_user_id  # uncut: the verification is for this id
        new_case = self._validated(new_case)
        fingerprint = content_fingerprint(new_case)
        limits = self._limits
        quotas = [
            ("cases:conversation", conversation_id, limits.cases_per_conversation),
        ]
        if client_address:
            quotas.append(("cases:address", client_address[:256], limits.cases_per_address))
        for _attempt in range(5):
            try:
                with self._transaction() as session:
                    existing = self._find_duplicate(session, new_case, fingerprint)
                    if existing is not None:
                        self._verify(session, conversation_id, existing.case_number, "created")
                        return Case.from_record(existing)
                    now = self._now()
                    blocked_until = self._take_quota(
                        session, quotas, timedelta(minutes=limits.window_minutes)
                    )
                    if blocked_until is not None:
                        raise RateLimited("case creation", as_utc(blocked_until))
                    record = CaseRecord(
                        case_number=new_case_number(),
                        category=new_case.category,
                        status=CaseStatus.RECEIVED.value,
                        contact_phone=new_case.contact_phone,
                        brand=new_case.brand,
                        device_serial=new_case.device_serial,
                        tracking_number=new_case.tracking_number,
                        amount=new_case.amount,
                        description=new_case.description,
                        channel=new_case.channel,
                        channel_user_id=new_case.channel_user_id,
                        idempotency_key=new_case.idempotency_key,
                        content_fingerprint=fingerprint,
                        created_at=now,
                        updated_at=now,
                    )
                    record.events.append(
                        CaseEventRecord(
                            kind="created",
                            to_status=CaseStatus.RECEIVED.value,
                            is_public=1,
                            author="user",
                            created_at=now,
                        )
                    )
                    session.add(record)
                    session.flush()
                    self._verify(session, conversation_id, record.case_number, "created")
                    case = Case.from_record(record)
                logger.info(
                    "case %s opened (category=%s, phone=%s)",
                    case.case_number,
                    case.category,
                    case.masked_phone,
                )
                return case
            except IntegrityError:
                # A concurrent submit of the same form won the race (or, rarely, a random number
                # was taken already): the next attempt finds the first case or draws again.
                continue
        raise StoreUnavailable("could not write the case after several attempts")

    def _validated(self, new_case: NewCase) -> NewCase:
        phone = normalize_phone(new_case.contact_phone)
        if phone is None:
            raise InvalidCaseData("contact phone is not a mainland mobile number")
        try:
            category = CaseCategory(new_case.category).value
        except ValueError as error:
            raise InvalidCaseData(f"unknown category {new_case.category!r}") from error
        description = _clean(new_case.description, 2000)
        if not description:
            raise InvalidCaseData("description is empty")
        if not new_case.idempotency_key or not new_case.channel_user_id:
            raise InvalidCaseData("idempotency key and channel user id are required")
        return NewCase(
            category=category,
            contact_phone=phone,
            description=description,
            channel=_clean(new_case.channel, 32) or "unknown",
            channel_user_id=new_case.channel_user_id[:128],
            idempotency_key=hashlib.sha256(new_case.idempotency_key.encode()).hexdigest(),
            brand=_clean(new_case.brand, 64),
            device_serial=_clean(new_case.device_serial, 32),
            tracking_number=_clean(new_case.tracking_number, 32),
            amount=_clean(new_case.amount, 16),
        )

    def _find_duplicate(
        self, session: Session, new_case: NewCase, fingerprint: str
    ) -> CaseRecord | None:
        by_key = session.execute(
            select(CaseRecord).where(CaseRecord.idempotency_key == new_case.idempotency_key)
        ).scalar_one_or_none()
        if by_key is not None:
            return by_key
        since = self._now() - self._duplicate_window
        return (
            session.execute(
                select(CaseRecord)
                .where(CaseRecord.content_fingerprint == fingerprint)
                .where(CaseRecord.created_at >= since)
                .order_by(CaseRecord.id)
            )
            .scalars()
            .first()
        )

    def _load(self, session: Session, case_number: str, *, for_update: bool = False) -> CaseRecord:
        normalized = normalize_case_number(case_number)
        query = select(CaseRecord).where(CaseRecord.case_number == (normalized or ""))
        if for_update:
            query = query.with_for_update()
        record = session.execute(query).scalar_one_or_none()
        if record is None:
            raise CaseNotFound(normalized or str(case_number))
        return record

    def get_case(self, case_number: str) -> Case:
        with self._transaction() as session:
            return Case.from_record(self._load(session, case_number))

    def list_cases(self, status: str | None = None, limit: int = 200) -> list[Case]:
        query = select(CaseRecord).order_by(CaseRecord.created_at.desc(), CaseRecord.id.desc())
        if status:
            query = query.where(CaseRecord.status == CaseStatus(status).value)
        with self._transaction() as session:
            return [Case.from_record(row) for row in session.execute(query.limit(limit)).scalars()]

    def cases_opened_by(self, conversation_id: str) -> list[Case]:
        """The cases this conversation opened, when its id is a trusted identity (else none)."""
        if not _is_trusted_opener_id(conversation_id):
            return []
        query = (
            select(CaseRecord)
            .where(CaseRecord.channel_user_id == conversation_id)
            .order_by(CaseRecord.created_at.desc(), CaseRecord.id.desc())
        )
        with self._transaction() as session:
            return [Case.from_record(row) for row in session.execute(query).scalars()]

    def change_status(
        self, case_number: str, new_status: str, *, note: str | None = None, author: str = "staff"
    ) -> Case:
        try:
            target = CaseStatus(new_status)
        except ValueError as error:
            raise InvalidCaseData(f"unknown status {new_status!r}") from error
        with self._transaction() as session:
            record = self._load(session, case_number, for_update=True)
            current = CaseStatus(record.status)
            if target not in ALLOWED_TRANSITIONS[current]:
                raise InvalidStatusTransition(current.value, target.value)
            now = self._now()
            record.status = target.value
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="status",
                    from_status=current.value,
                    to_status=target.value,
                    note=_clean(note, 2000),
                    is_public=1,
                    author=author[:64],
                    created_at=now,
                )
            )
            session.flush()
            return Case.from_record(record)

    def add_note(
        self,
        case_number: str,
        note: str,
        *,
        author: str = "staff",
        public: bool = True,
        require_open: bool = False,
    ) -> Case:
        text_value = _clean(note, 2000)
        if not text_value:
            raise InvalidCaseData("note is empty")
        with self._transaction() as session:
            record = self._load(session, case_number, for_update=True)
            if require_open and CaseStatus(record.status) not in OPEN_STATUSES:
                raise CaseNotOpen(record.case_number)
            now = self._now()
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="note",
                    note=text_value,
                    is_public=1 if public else 0,
                    author=author[:64],
                    created_at=now,
                )
            )
            session.flush()
            return Case.from_record(record)

    # ------------------------------------------------------------------ access to a case

    def is_opener(self, case_number: str, conversation_id: str) -> bool:
        """True when this conversation opened the case AND its id is a trusted identity.

        A REST sender (or any id without a trusted channel prefix) never counts: its owner
        typed it, so it proves nothing about who is asking.
        """
        if not _is_trusted_opener_id(conversation_id):
            return False
        with self._transaction() as session:
            record = self._find(session, case_number)
            return record is not None and record.channel_user_id == conversation_id

    def recognise_opener(self, case_number: str, conversation_id: str) -> bool:
        """Records the verification when the opener (a trusted identity) asks about its case."""
        if not _is_trusted_opener_id(conversation_id):
            return False
        with self._transaction() as session:
            record = self._find(session, case_number)
            if record is None or record.channel_user_id != conversation_id:
                return False
            self._verify(session, conversation_id, record.case_number, "opener")
            return True

    def verified_case(self, case_number: str, conversation_id: str) -> Case:
        """The case, when this conversation is verified for it (recorded here, not expired).

        Raises AccessDenied otherwise, also for numbers that do not exist.
        """
        with self._transaction() as session:
            record = self._find(session, case_number)
            if record is None or not self._has_access(session, record, conversation_id):
                raise AccessDenied(str(case_number)[:16])
            return Case.from_record(record)

    def add_user_note(self, case_number: str, note: str, conversation_id: str) -> Case:
        """A user's note on an open case this conversation is verified for (staff-only note)."""
        text_value = _clean(note, 2000)
        if not text_value:
            raise InvalidCaseData("note is empty")
        with self._transaction() as session:
            record = self._find(session, case_number, for_update=True)
            if record is None or not self._has_access(session, record, conversation_id):
                raise AccessDenied(str(case_number)[:16])
            if CaseStatus(record.status) not in OPEN_STATUSES:
                raise CaseNotOpen(record.case_number)
            now = self._now()
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="note", note=text_value, is_public=0, author="user", created_at=now
                )
            )
            session.flush()
            return Case.from_record(record)

    def _find(
        self, session: Session, case_number: str | None, *, for_update: bool = False
    ) -> CaseRecord | None:
        try:
            return self._load(session, case_number or "", for_update=for_update)
        except CaseNotFound:
            return None

    def _has_access(self, session: Session, record: CaseRecord, conversation_id: str) -> bool:
        if _is_trusted_opener_id(conversation_id) and record.channel_user_id == conversation_id:
            return True
        verification = session.get(CaseVerification, (_hash(conversation_id), record.case_number))
        return verification is not None and verification.expires_at > self._now()

    def _verify(
        self, session: Session, conversation_id: str, case_number: str, method: str
    ) -> None:
        """Records (or renews) "this conversation may see this case" until the expiry."""
        now = self._now()
        key = (_hash(conversation_id), case_number)
        expires = now + timedelta(minutes=self._limits.verification_minutes)
        existing = session.get(CaseVerification, key)
        if existing is not None:
            existing.method, existing.verified_at, existing.expires_at = method, now, expires
            return
        try:
            with session.begin_nested():
                session.add(
                    CaseVerification(
                        conversation_hash=key[0],
                        case_number=case_number,
                        method=method,
                        verified_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:
            pass  # a concurrent request of the same conversation recorded it first

    def forget_expired_verifications(self) -> int:
        """Deletes expired verifications (they already grant nothing); returns how many."""
        with self._transaction() as session:
            result = session.execute(
                delete(CaseVerification).where(CaseVerification.expires_at <= self._now())
            )
            return int(result.rowcount or 0)

    # ------------------------------------------------------------------ lookup verification

    def ensure_not_locked(
        self,
        case_number: str,
        conversation_id: str | None = None,
        client_address: str | None = None,
    ) -> None:
        """Raises LookupLocked while lookups of this number (existing or not) are locked, or
        while the asking conversation or client address has used up its failed lookups."""
        normalized = normalize_case_number(case_number) or str(case_number)[:16]
        with self._transaction() as session:
            now = self._now()
            guard = session.get(LookupGuard, normalized)
            if guard is not None and guard.locked_until and guard.locked_until > now:
                raise LookupLocked(normalized, as_utc(guard.locked_until))
            if conversation_id is not None:
                until = self._identity_blocked_until(session, conversation_id, client_address)
                if until is not None:
                    raise LookupLocked(normalized, as_utc(until))

    def verify_last4(
        self,
        case_number: str,
        last4: str,
        conversation_id: str,
        client_address: str | None = None,
    ) -> Case:
        """The case when `last4` ends its contact phone; records the conversation as verified.

        Raises VerificationFailed for a wrong answer AND for an unknown number, so an unverified
        person cannot learn whether a number exists; LookupLocked after too many failures for
        this number, or for this conversation or client address across all numbers.
        """
        normalized = normalize_case_number(case_number) or str(case_number)[:16]
        outcome: Case | CaseStoreError
        with self._transaction() as session:
            record = self._find(session, normalized)
            guard = self._guard_for_update(session, normalized)
            now = self._now()
            identity_until = self._identity_blocked_until(session, conversation_id, client_address)
            if guard.locked_until and guard.locked_until > now:
                outcome = LookupLocked(normalized, as_utc(guard.locked_until))
            elif identity_until is not None:
                outcome = LookupLocked(normalized, as_utc(identity_until))
            elif record is not None and str(last4) == record.contact_phone[-4:]:
                guard.failed_attempts = 0
                guard.locked_until = None
                guard.updated_at = now
                self._verify(session, conversation_id, record.case_number, "last4")
                outcome = Case.from_record(record)
            else:
                outcome = self._count_failure(session, guard, conversation_id, client_address)
        if isinstance(outcome, CaseStoreError):
            raise outcome  # raised after the commit, so the counted failure is kept
        return outcome

    def _count_failure(
        self,
        session: Session,
        guard: LookupGuard,
        conversation_id: str,
        client_address: str | None,
    ) -> CaseStoreError:
        now = self._now()
        if guard.updated_at < now - self._lock_duration:
            guard.failed_attempts = 0  # old failures do not add up forever
        guard.failed_attempts += 1
        guard.updated_at = now
        window = timedelta(minutes=self._limits.lookup_identity_window_minutes)
        quotas = [
            (f"lookup:{kind}", value, self._lookup_limit(kind))
            for kind, value in _identities(conversation_id, client_address)
        ]
        self._take_quota(session, quotas, window, count_when_full=False)
        identity_until = self._identity_blocked_until(session, conversation_id, client_address)
        if guard.failed_attempts >= self._max_failed_attempts:
            guard.failed_attempts = 0
            guard.locked_until = now + self._lock_duration
            logger.warning("lookups of case number %s locked after failures", guard.case_number)
            return LookupLocked(guard.case_number, as_utc(guard.locked_until))
        if identity_until is not None:
            logger.warning("an identity used up its failed case lookups")
            return LookupLocked(guard.case_number, as_utc(identity_until))
        return VerificationFailed(self._max_failed_attempts - guard.failed_attempts)

    def _lookup_limit(self, kind: str) -> int:
        if kind == "address":
            return self._limits.lookup_failures_per_address
        return self._limits.lookup_failures_per_conversation

    def _identity_blocked_until(
        self, session: Session, conversation_id: str, client_address: str | None
    ) -> datetime | None:
        """When the asker may look up again, or None while it has failed lookups left."""
        window = timedelta(minutes=self._limits.lookup_identity_window_minutes)
        now = self._now()
        latest: datetime | None = None
        for kind, value in _identities(conversation_id, client_address):
            scope = f"lookup:{kind}"
            counter = session.get(RateCounter, (scope, _hash(scope, value)))
            if (
                counter is not None
                and counter.window_started > now - window
                and counter.count >= self._lookup_limit(kind)
            ):
                until = counter.window_started + window
                latest = until if latest is None or until > latest else latest
        return latest

    def _guard_for_update(self, session: Session, case_number: str) -> LookupGuard:
        query = select(LookupGuard).where(LookupGuard.case_number == case_number).with_for_update()
        guard = session.execute(query).scalar_one_or_none()
        if guard is not None:
            return guard
        try:
            with session.begin_nested():
                session.add(
                    LookupGuard(case_number=case_number, failed_attempts=0, updated_at=self._now())
                )
        except IntegrityError:
            pass  # a concurrent request created it first
        return session.execute(query).scalar_one()

    # ------------------------------------------------------------------ rate limits

    def _take_quota(
        self,
        session: Session,
        quotas: Sequence[tuple[str, str, int]],
        window: timedelta,
        *,
        count_when_full: bool = True,
    ) -> datetime | None:
        """Counts one use against each (scope, identity, limit) in fixed windows.

        Returns when the earliest full counter frees up (and counts nothing) if any is full;
        with `count_when_full=False` it counts regardless and returns None.
        """
        now = self._now()
        counters = []
        blocked_until: datetime | None = None
        for scope, value, limit in quotas:
            counter = self._counter_for_update(session, scope, _hash(scope, value))
            if counter.window_started <= now - window:
                counter.window_started, counter.count = now, 0
            if counter.count >= limit:
                until = counter.window_started + window
                blocked_until = (
                    until if blocked_until is None or until > blocked_until else blocked_until
                )
            counters.append(counter)
        if blocked_until is not None and count_when_full:
            return blocked_until
        for counter in counters:
            counter.count += 1
        return None

    def _counter_for_update(self, session: Session, scope: str, key_hash: str) -> RateCounter:
        query = (
            select(RateCounter)
            .where(RateCounter.scope == scope, RateCounter.key_hash == key_hash)
            .with_for_update()
        )
        counter = session.execute(query).scalar_one_or_none()
        if counter is not None:
            return counter
        try:
            with session.begin_nested():
                session.add(
                    RateCounter(scope=scope, key_hash=key_hash, window_started=self._now(), count=0)
                )
        except IntegrityError:
            pass  # a concurrent request created it first
        return session.execute(query).scalar_one()

    # ------------------------------------------------------------------ handoff queue

    def enqueue_handoff(
        self,
        conversation_id: str,
        *,
        channel: str,
        summary: str,
        category: str | None = None,
        case_number: str | None = None,
        client_address: str | None = None,
    ) -> HandoffRequest:
        """Queues a conversation for a human agent; an already open request is returned as is.

        Raises RateLimited when this conversation or client address asked too often.
        """
        limits = self._limits
        quotas = [("handoffs:conversation", conversation_id, limits.handoffs_per_conversation)]
        if client_address:
            quotas.append(("handoffs:address", client_address[:256], limits.handoffs_per_address))
        for _attempt in range(3):
            try:
                with self._transaction() as session:
                    existing = self._open_handoff(session, conversation_id)
                    if existing is not None:
                        return HandoffRequest.from_record(existing)
                    blocked_until = self._take_quota(
                        session, quotas, timedelta(minutes=limits.window_minutes)
                    )
                    if blocked_until is not None:
                        raise RateLimited("handoff", as_utc(blocked_until))
                    now = self._now()
                    record = HandoffRequestRecord(
                        conversation_id=conversation_id[:128],
                        channel=(channel or "unknown")[:32],
                        category=category,
                        summary=summary[:1000],
                        case_number=normalize_case_number(case_number),
                        status=HandoffStatus.WAITING.value,
                        open_conversation_id=conversation_id[:128],
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(record)
                    session.flush()
                    return HandoffRequest.from_record(record)
            except IntegrityError:
                continue  # a concurrent enqueue for the same conversation won
        raise StoreUnavailable("could not queue the handoff request")

    def _open_handoff(self, session: Session, conversation_id: str) -> HandoffRequestRecord | None:
        return session.execute(
            select(HandoffRequestRecord)
            .where(HandoffRequestRecord.open_conversation_id == conversation_id)
            .with_for_update()
        ).scalar_one_or_none()

    def list_handoffs(self, statuses: tuple[str, ...] = ("waiting",)) -> list[HandoffRequest]:
        query = (
            select(HandoffRequestRecord)
            .where(HandoffRequestRecord.status.in_([HandoffStatus(s).value for s in statuses]))
            .order_by(HandoffRequestRecord.created_at, HandoffRequestRecord.id)
        )
        with self._transaction() as session:
            return [HandoffRequest.from_record(row) for row in session.execute(query).scalars()]

    def list_waiting(self) -> list[HandoffRequest]:
        return self.list_handoffs((HandoffStatus.WAITING.value,))

    def take_handoff(
        self, conversation_id: str, agent: str, *, reassign: bool = False
    ) -> HandoffRequest:
        """Makes `agent` the owner. Raises HandoffTakenByOther when someone else owns it, unless
        `reassign` (a lead's decision)."""
        with self._transaction() as session:
            record = self._open_handoff(session, conversation_id)
            if record is None:
                raise HandoffNotFound(conversation_id)
            owner = record.taken_by
            if record.status == HandoffStatus.TAKEN.value and owner != agent[:64] and not reassign:
                raise HandoffTakenByOther(conversation_id, owner or "")
            record.status = HandoffStatus.TAKEN.value
            record.taken_by = agent[:64]
            record.updated_at = record.agent_active_at = self._now()
            session.flush()
            return HandoffRequest.from_record(record)

    def mark_agent_active(self, conversation_id: str) -> None:
        """The owner just replied: the abandoned-take clock starts again."""
        with self._transaction() as session:
            record = self._open_handoff(session, conversation_id)
            if record is not None:
                record.agent_active_at = self._now()

    def requeue_abandoned(self, idle: timedelta) -> list[tuple[HandoffRequest, str]]:
        """Taken conversations whose owner has not acted for `idle` go back to waiting; returns
        each with the owner who left it."""
        cutoff = self._now() - idle
        with self._transaction() as session:
            records = session.execute(
                select(HandoffRequestRecord)
                .where(
                    HandoffRequestRecord.status == HandoffStatus.TAKEN.value,
                    HandoffRequestRecord.agent_active_at < cutoff,
                )
                .with_for_update()
            ).scalars()
            requeued = []
            for record in records:
                owner = record.taken_by or ""
                record.status = HandoffStatus.WAITING.value
                record.taken_by = None
                record.updated_at = self._now()
                requeued.append((HandoffRequest.from_record(record), owner))
            return requeued

    def release_handoff(self, conversation_id: str, summary: str | None = None) -> HandoffRequest:
        with self._transaction() as session:
            record = self._open_handoff(session, conversation_id)
            if record is None:
                raise HandoffNotFound(conversation_id)
            record.status = HandoffStatus.RELEASED.value
            record.release_summary = (summary or "")[:2000] or None
            record.open_conversation_id = None
            record.updated_at = self._now()
            session.flush()
            return HandoffRequest.from_record(record)


def _is_trusted_opener_id(conversation_id: str) -> bool:
    """Only a trusted identity (widget session, WeChat openid) can be recognised as an opener."""
    return (
        bool(conversation_id)
        and len(conversation_id) <= _MAX_CONVERSATION_ID
        and trusted_identity(conversation_id) is not None
    )


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


__all__ = ["AbuseLimits", "CaseStore", "content_fingerprint", "mask_phone"]
