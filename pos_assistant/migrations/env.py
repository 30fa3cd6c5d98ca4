"""Alembic environment. pos_assistant/db.py passes an open connection in `config.attributes`;
the command-line `alembic` (for writing new revisions) falls back to `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

# Each module that defines tables adds them to Base.metadata.
import pos_assistant.attachments.models
import pos_assistant.cases.models
import pos_assistant.handoff.models
import pos_assistant.outbox
import pos_assistant.rate_limits  # noqa: F401
from pos_assistant.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as own_connection:
        context.configure(connection=own_connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
