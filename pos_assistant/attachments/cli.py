"""`python -m pos_assistant.staff photos …`: the evidence photos of a case, for agents."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases.store import CaseStore
from pos_assistant.china_time import beijing_time
from pos_assistant.settings import Settings
from pos_assistant.staff.sanitize import strip_control_characters


def add_commands(groups: argparse._SubParsersAction) -> None:
    photos = groups.add_parser("photos", help="evidence photos of a case").add_subparsers(
        dest="command", required=True
    )
    listing = photos.add_parser("list", help="the photos attached to a case")
    listing.add_argument("case_number")
    export = photos.add_parser("export", help="copy a case's photos (JPEG, no EXIF) to a folder")
    export.add_argument("case_number")
    export.add_argument("--to", required=True, type=Path, help="folder to write them into")


def run(args: argparse.Namespace, store: CaseStore, settings: Settings, out: TextIO) -> int:
    inbox = PhotoInbox.from_settings(settings, store)
    case_number = store.get_case(args.case_number).case_number  # CaseNotFound for a typo
    photos = inbox.photos_of_case(case_number)
    if args.command == "list":
        for number, photo in enumerate(photos, start=1):
            taken = beijing_time(photo.created_at)
            line = (
                f"{number}. {photo.public_id}  {photo.source}  {photo.width}x{photo.height}  "
                f"{photo.byte_size // 1024} KB  {taken}"
            )
            print(strip_control_characters(line), file=out)
        if not photos:
            print("(no photos)", file=out)
        return 0
    args.to.mkdir(parents=True, exist_ok=True)
    for number, photo in enumerate(photos, start=1):
        target = args.to / f"{case_number}-{number}.jpg"
        target.write_bytes(inbox.storage.get(photo.storage_key))
        print(target, file=out)
    print(f"{len(photos)} photo(s) exported", file=out)
    return 0
