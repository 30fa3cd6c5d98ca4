"""Support cases and the human-handoff queue, stored in a SQL database (SQLite or PostgreSQL)."""
