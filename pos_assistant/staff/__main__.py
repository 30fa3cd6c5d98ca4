"""`python -m pos_assistant.staff …`: the staff command-line tool (pos_assistant/staff/cli.py;
`outbox …` is pos_assistant/staff/outbox_cli.py)."""

from __future__ import annotations

import sys

from pos_assistant.staff.cli import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["outbox"]:
        from pos_assistant.staff.outbox_cli import main as outbox_main

        raise SystemExit(outbox_main(sys.argv[2:]))
    raise SystemExit(main())
