"""A SQL tracker store whose stored rows never hold a phone, ID or card number in clear.

Rasa keeps every message in the tracker store, which is what agents read as the transcript, and
reloads the conversation from it at every turn. So:

- every text in an event (user and bot texts, the parsed text, every entity value, buttons,
  metadata) is masked before it is written: nobody needs the clear text of a past message;
- slot values are still needed turns later (the contact phone when the case is submitted), so
  masking them would destroy them. The slots that hold personal data, and any slot value that
  masking would change, are encrypted instead (Fernet, key from TRACKER_ENCRYPTION_KEY or a key
  generated per install under var/) and decrypted when the tracker is loaded.

docs/security.md "What is stored masked" describes the design.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from pos_assistant.log_masking import install_log_masking
from pos_assistant.past_states import STORED_EVENTS_ATTRIBUTE
from pos_assistant.privacy import mask_data
from pos_assistant.settings import VAR_DIR, get_settings
from pos_assistant.tracker_cache import CachedSession, SessionCache
from pos_assistant.tracker_copy import clone_tracker

logger = logging.getLogger(__name__)

# Slots that hold what a user typed about themselves: always encrypted, whatever the value.
ENCRYPTED_SLOTS = frozenset(
    {"phone_number", "case_description", "case_extra_info", "case_lookup_last4", "case_confirmed"}
)
ENCRYPTED_PREFIX = "enc:v1:"
DEFAULT_KEY_FILE = VAR_DIR / "tracker-encryption.key"


def _needs_encryption(name: Any, value: Any) -> bool:
    if value is None:
        return False
    if name in ENCRYPTED_SLOTS:
        return True
    if isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX):
        return True  # a user-typed look-alike must not be mistaken for ciphertext on load
    return mask_data(value) != value


class SlotCipher:
    """Encrypts slot values for storage (Fernet; the first key encrypts, any key decrypts)."""

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(key.encode("ascii")) for key in keys]
        if not fernets:
            raise ValueError("SlotCipher needs at least one key")
        self._fernet = MultiFernet(fernets)

    def encrypt(self, value: Any) -> str:
        token = self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8"))
        return ENCRYPTED_PREFIX + token.decode("ascii")

    def decrypt(self, stored: str) -> Any:
        """The value `encrypt` was given; raises InvalidToken for a wrong key or a damaged value."""
        token = stored[len(ENCRYPTED_PREFIX) :].encode("ascii")
        return json.loads(self._fernet.decrypt(token).decode("utf-8"))


def _read_or_create_key(path: Path) -> str:
    """The key in `path`, created (readable by this user only) when there is none yet."""
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file, then linked into place: two processes starting at
    # once end up with the same key, and nobody ever reads a half-written file.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(Fernet.generate_key().decode("ascii") + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_text(encoding="ascii").strip()


def slot_cipher(key_setting: str | None = None, key_file: Path = DEFAULT_KEY_FILE) -> SlotCipher:
    """TRACKER_ENCRYPTION_KEY (comma-separated for rotation), else the per-install key file."""
    if key_setting is None:
        key_setting = get_settings().tracker_encryption_key
    keys = [key.strip() for key in key_setting.split(",") if key.strip()]
    try:
        return SlotCipher(keys or [_read_or_create_key(key_file)])
    except ValueError as error:  # a malformed key: say which setting, never print the key
        raise ValueError(
            "TRACKER_ENCRYPTION_KEY must be Fernet keys (urlsafe base64 of 32 bytes), "
            "comma-separated; make one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"`'
        ) from error


def mask_event_data(data: dict[str, Any], cipher: SlotCipher | None = None) -> dict[str, Any]:
    """The serialised event as it is stored (the input is not changed).

    Slot values that hold personal data are encrypted with `cipher`; without one they are
    masked like everything else.
    """
    stored = json.loads(json.dumps(data))
    if stored.get("event") == "slot":
        name, value = stored.get("name"), stored.get("value")
        if _needs_encryption(name, value):
            stored["value"] = cipher.encrypt(value) if cipher else mask_data(value)
        return stored
    return mask_data(stored)


def unmask_event_data(data: dict[str, Any], cipher: SlotCipher) -> dict[str, Any]:
    """A stored event made usable again: encrypted slot values decrypted."""
    value = data.get("value")
    if data.get("event") != "slot" or not isinstance(value, str):
        return data
    if not value.startswith(ENCRYPTED_PREFIX):
        return data
    try:
        return {**data, "value": cipher.decrypt(value)}
    except (InvalidToken, ValueError):
        # Another key (TRACKER_ENCRYPTION_KEY changed, var/ lost): the slot is empty again and
        # the form asks for it, rather than the conversation failing on every turn.
        logger.warning("Slot %s could not be decrypted; it is reset.", data.get("name"))
        return {**data, "value": None}


def _pooled_sqlite_engine(url: Any) -> sa.engine.Engine:
    """The SQLite file's engine, its connections kept open between turns, in WAL mode.

    SQLAlchemy 1.4 opens and closes a new connection for every session on a SQLite file
    (NullPool): at least two a turn, each a file open and the pragmas below.
    """
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=8,
        connect_args={"check_same_thread": False},  # a pooled connection may change threads
    )
    _use_write_ahead_log(engine)
    return engine


def _use_write_ahead_log(engine: sa.engine.Engine) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints rather than at every commit.

    Every turn commits its events. In SQLite's default mode each commit waits for the disk
    (fsync) while the Rasa server's event loop is blocked: the largest single cost of a turn
    under load (`do_commit` in docs/turn-profile.md). With WAL and synchronous=NORMAL a commit
    survives the process crashing or being killed; only a power cut or OS crash can lose the
    last turns' rows (https://www.sqlite.org/wal.html). The production layout uses PostgreSQL.
    Readers (the console, `rasa` tools) no longer wait for the writer either.
    """

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _handed_out(cached: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of a cached tracker, marked with how many of its events are stored ones."""
    tracker = clone_tracker(cached)
    setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))
    return tracker


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore (SQLite or PostgreSQL): masked transcripts, encrypted personal slots."""

    def __init__(self, *args: Any, encryption_key: str | None = None, **kwargs: Any) -> None:
        # Created once the server has set up its logging (Sanic's included): mask all of it.
        install_log_masking()
        self._cipher = slot_cipher(encryption_key)
        self._sessions = SessionCache()
        # The server reads and saves on its event loop; a tool calling from threads stays safe.
        self._cache_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, ""):
            self.engine.dispose()
            self.engine = _pooled_sqlite_engine(self.engine.url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
        with self.session_scope() as session:
            if stored is None:
                new_events = list(self._additional_events(session, tracker))
            else:
                # Read from this store: its first `stored` events are the stored rows (a
                # conversation's turns are serialised by the lock store), so Rasa's count of
                # the session's rows is not needed.
                new_events = list(itertools.islice(tracker.events, stored, None))
            rows = [self._event_row(tracker.sender_id, event) for event in new_events]
            if rows:
                # One INSERT for the turn's rows, in order, without ORM objects to flush.
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        if stored is not None:
            setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))

    def _event_row(self, sender_id: str, event: Event) -> dict[str, Any]:
        """The events table's row for `event` (SQLTrackerStore.save's columns), masked."""
        data = mask_event_data(event.as_dict(), self._cipher)
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        # SQLTrackerStore._retrieve, with the slot values decrypted; the current session read
        # through the cache (only rows written since the last turn are read and deserialised).
        if not self.domain:
            return None
        if not fetch_events_from_all_sessions:
            with self._cache_lock:
                return self._current_session(sender_id)
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=True)
            events = deserialise_events([self._stored_event(row.data) for row in rows])
        if events:
            return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
        return None

    def _stored_event(self, data: str) -> dict[str, Any]:
        return unmask_event_data(json.loads(data), self._cipher)

    def _current_session(self, sender_id: str) -> DialogueStateTracker | None:
        """The current session: the cached tracker with the rows written since applied."""
        columns = (self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.timestamp)
        with self.session_scope() as session:
            cached = self._sessions.get(sender_id)
            if cached is not None and self._cache_still_valid(session, sender_id, cached):
                newer = (
                    session.query(*columns, self.SQLEvent.data)
                    .filter(
                        self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > cached.last_row_id
                    )
                    .order_by(self.SQLEvent.id)
                    .all()
                )
                if not any(row.type_name == SessionStarted.type_name for row in newer):
                    if cached.session_start is not None:
                        newer = [row for row in newer if row.timestamp >= cached.session_start]
                    if newer:
                        cached.last_row_id = newer[-1].id
                        cached.rows += len(newer)
                        added = deserialise_events([self._stored_event(r.data) for r in newer])
                        try:
                            self._sessions.extend(sender_id, cached, added)
                        except Exception:
                            self._sessions.drop(sender_id)  # half-applied: read it all next time
                            raise
                    return _handed_out(cached.tracker)
            # No usable cache (first turn here, a new session, rows changed): a full read.
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                .with_entities(*columns, self.SQLEvent.data)
                .all()
            )
            events = deserialise_events([self._stored_event(row.data) for row in rows])
        self._sessions.drop(sender_id)
        if not events:
            return None
        tracker = DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
        starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
        self._sessions.put(
            sender_id,
            CachedSession(
                first_row_id=rows[0].id,
                last_row_id=rows[-1].id,
                session_start=max(starts) if starts else None,
                rows=len(rows),
                tracker=tracker,
            ),
        )
        return _handed_out(tracker)

    def _cache_still_valid(self, session: Any, sender_id: str, cached: CachedSession) -> bool:
        """The cached rows are all still there (none deleted, none inserted between them)."""
        query = session.query(sa.func.count(self.SQLEvent.id)).filter(
            self.SQLEvent.sender_id == sender_id,
            self.SQLEvent.id.between(cached.first_row_id, cached.last_row_id),
        )
        if cached.session_start is not None:
            query = query.filter(self.SQLEvent.timestamp >= cached.session_start)
        return query.scalar() == cached.rows
