"""`python -m pos_assistant.staff outbox list [--status failed]`: messages to users that went out
after their turn, or could not (WeChat refused them, e.g. outside the 48 hours after the user's
last message). A failed one needs a person: reach the user another way, or wait for them to
write again. Recipients are shown masked; texts are cut to one short line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.china_time import beijing_time
from pos_assistant.outbox import Outbox, OutboxStatus, outbox_for
from pos_assistant.settings import get_settings
from pos_assistant.staff.sanitize import strip_control_characters

PREVIEW_CHARS = 40


def masked_recipient(recipient: str) -> str:
    return recipient[:4] + "…" + recipient[-2:] if len(recipient) > 8 else "…"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pos_assistant.staff outbox")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="newest first")
    listing.add_argument("--status", choices=[status.value for status in OutboxStatus])
    listing.add_argument("--limit", type=int, default=50)
    return parser


def main(
    argv: Sequence[str] | None = None, *, outbox: Outbox | None = None, out: TextIO | None = None
) -> int:
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    outbox = outbox or outbox_for(get_settings().database_url)
    try:
        messages = outbox.messages(args.status, args.limit)
    except StoreUnavailable as error:
        print(f"error: {error}", file=out)
        return 1
    if not messages:
        print("no messages", file=out)
    for message in messages:
        preview = strip_control_characters(" ".join(message.parts), keep_newlines=False)
        print(
            f"{message.id}  {message.status}  {message.channel}:"
            f"{masked_recipient(message.recipient)}  "
            f"{beijing_time(message.updated_at)}  "
            f"parts {message.parts_sent}/{len(message.parts)}  attempts {message.attempts}",
            file=out,
        )
        print(f"    {preview[:PREVIEW_CHARS]}", file=out)
        if message.last_error:
            print(f"    last error: {strip_control_characters(message.last_error)}", file=out)
    return 0
