"""`python -m pos_assistant.staff …`: the staff command-line tool (pos_assistant/staff/cli.py)."""

from __future__ import annotations

from pos_assistant.staff.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
