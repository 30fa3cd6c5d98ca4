"""Staff command-line tool: look at and work on cases, and manage the human-handoff queue.

Run `.venv/bin/python -m pos_assistant.staff --help`. Staff see full phone numbers in
`cases show`; lists show them masked. Everything printed goes through `strip_control_characters`
(user text may carry terminal escape codes), and values users typed are printed on one line so
they cannot pose as lines of the tool's own output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from pos_assistant.attachments import cli as photo_commands
from pos_assistant.cases.errors import CaseNotFound, CaseStoreError
from pos_assistant.cases.labels import CaseLabels, load_case_labels
from pos_assistant.cases.records import Case, NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.china_time import beijing_time
from pos_assistant.console.accounts_cli import add_agent_commands, run_agent_command
from pos_assistant.handoff.models import ALL_HANDOFF_STATUSES, HandoffStatus
from pos_assistant.handoff.service import HandoffService
from pos_assistant.settings import Settings, get_settings
from pos_assistant.staff.rasa_client import RasaUnreachable, resume_conversation
from pos_assistant.staff.sanitize import strip_control_characters
from pos_assistant.staff.transcript import (
    recommended_steps,
    situation_discussed,
    transcript_lines,
)

ResumeFunction = Callable[[str, str, str], None]


def _user(value: object) -> str:
    """A value a user (or an API caller) chose, made safe and kept on one line."""
    return strip_control_characters(value, keep_newlines=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pos_assistant.staff",
        description="Staff tool for POS dispute cases and the human-handoff queue "
        "(database: DATABASE_URL; Rasa: RASA_URL + RASA_API_TOKEN).",
    )
    groups = parser.add_subparsers(dest="group", required=True)

    cases = groups.add_parser("cases", help="list, show and update cases").add_subparsers(
        dest="command", required=True
    )
    listing = cases.add_parser("list", help="newest cases first (phones masked)")
    listing.add_argument("--status", help="only this status, e.g. 处理中 or in_progress")
    listing.add_argument("--limit", type=int, default=50)
    show = cases.add_parser("show", help="one case with full phone and timeline")
    show.add_argument("case_number")
    set_status = cases.add_parser("set-status", help="change the status (users see the note)")
    set_status.add_argument("case_number")
    set_status.add_argument("status", help="已受理 / 处理中 / 待补充材料 / 已解决 / 已关闭")
    set_status.add_argument("--note", help="public note shown to the user on lookup")
    set_status.add_argument("--author", default="staff")
    add_note = cases.add_parser("add-note", help="add a timeline note")
    add_note.add_argument("case_number")
    add_note.add_argument("note")
    add_note.add_argument("--private", action="store_true", help="staff only, never shown")
    add_note.add_argument("--author", default="staff")
    cases.add_parser("seed-demo", help="create a few demo cases (safe to repeat)")
    photo_commands.add_commands(groups)

    handoff = groups.add_parser("handoff", help="the human-handoff queue").add_subparsers(
        dest="command", required=True
    )
    handoff_list = handoff.add_parser("list", help="conversations waiting for a human")
    handoff_list.add_argument("--all", action="store_true", help="also taken and released")
    take = handoff.add_parser("take", help="mark a waiting conversation as taken")
    take.add_argument("conversation_id")
    take.add_argument("--agent", default="staff")
    take.add_argument("--reassign", action="store_true", help="take it from another agent")
    show_handoff = handoff.add_parser(
        "show",
        help="the conversation for the agent: transcript with the assistant's understanding, "
        "recommended steps, the case",
    )
    show_handoff.add_argument("conversation_id")
    reply = handoff.add_parser(
        "reply", help="send a message to the user as an agent (takes the conversation if waiting)"
    )
    reply.add_argument("conversation_id")
    reply.add_argument("text")
    reply.add_argument("--agent", default="staff")
    release = handoff.add_parser(
        "release", help="give the conversation back to the assistant (resumes it in Rasa)"
    )
    release.add_argument("conversation_id")
    release.add_argument("--summary", help="what was done, for staff (never sent to the user)")
    add_agent_commands(groups)
    return parser


class StaffCommands:
    def __init__(
        self,
        store: CaseStore,
        settings: Settings,
        labels: CaseLabels,
        out: TextIO,
        resume: ResumeFunction,
    ) -> None:
        self.store = store
        self.settings = settings
        self.labels = labels
        self.out = out
        self.handoffs = HandoffService(store, settings, resume=resume)

    def print(self, line: str = "") -> None:
        print(strip_control_characters(line), file=self.out)

    def _case_line(self, case: Case) -> str:
        return (
            f"{case.case_number}  {self.labels.status(case.status):<5}  "
            f"{self.labels.category(case.category)}  {case.masked_phone}  "
            f"{self.labels.staff_fields['updated']} {beijing_time(case.updated_at)}"
        )

    def cases_list(self, status: str | None, limit: int) -> int:
        code = None
        if status:
            code = self.labels.status_code(status)
            if code is None:
                self.print(f"error: unknown status {status!r}")
                return 1
        cases = self.store.list_cases(status=code, limit=limit)
        for case in cases:
            self.print(self._case_line(case))
        if not cases:
            self.print("(no cases)")
        return 0

    def cases_show(self, case_number: str) -> int:
        case = self.store.get_case(case_number)
        field = self.labels.staff_fields
        self.print(f"{field['case_number']}: {case.case_number}")
        self.print(f"{field['status']}: {self.labels.status(case.status)} ({case.status})")
        self.print(f"{field['category']}: {self.labels.category(case.category)} ({case.category})")
        self.print(f"{field['contact_phone']}: {case.contact_phone}")
        for kind, value in (
            ("brand", case.brand),
            ("device_sn", case.device_serial),
            ("tracking_number", case.tracking_number),
            ("amount", case.amount),
        ):
            if value:
                self.print(f"{self.labels.extra_fields[kind]}: {_user(value)}")
        self.print(f"{field['description']}: {_user(case.description)}")
        self.print(f"{field['channel']}: {_user(case.channel)} / {_user(case.channel_user_id)}")
        self.print(
            f"{field['created']}: {beijing_time(case.created_at)}  "
            f"{field['updated']}: {beijing_time(case.updated_at)}"
        )
        self.print(f"{field['timeline']}:")
        for event in case.events:
            what = event.kind
            if event.to_status:
                what = f"{event.kind} → {self.labels.status(event.to_status)}"
            visibility = "" if event.is_public else f" [{field['internal']}]"
            note = f"：{_user(event.note)}" if event.note else ""
            when = beijing_time(event.created_at)
            self.print(f"  {when}  {what} ({_user(event.author)}){visibility}{note}")
        return 0

    def cases_set_status(self, case_number: str, status: str, note: str | None, author: str) -> int:
        code = self.labels.status_code(status)
        if code is None:
            self.print(f"error: unknown status {status!r}")
            return 1
        case = self.store.change_status(case_number, code, note=note, author=author)
        self.print(f"{case.case_number}: status is now {self.labels.status(case.status)}")
        return 0

    def cases_add_note(self, case_number: str, note: str, private: bool, author: str) -> int:
        case = self.store.add_note(case_number, note, author=author, public=not private)
        self.print(f"{case.case_number}: note added")
        return 0

    def cases_seed_demo(self) -> int:
        for index, demo in enumerate(self.labels.demo_cases, start=1):
            case = self.store.create_case(
                NewCase(
                    channel="demo",
                    channel_user_id=f"demo-user-{index}",
                    idempotency_key=f"demo-case-{index}",
                    **{key: str(value) for key, value in demo.items()},
                )
            )
            self.print(self._case_line(case))
        return 0

    def handoff_list(self, show_all: bool) -> int:
        statuses = ALL_HANDOFF_STATUSES if show_all else (HandoffStatus.WAITING.value,)
        requests = self.store.handoffs.list(statuses)
        for request in requests:
            case = f"  {request.case_number}" if request.case_number else ""
            category = self.labels.category(request.category) if request.category else "-"
            self.print(
                f"{_user(request.conversation_id)}  {request.status}  {_user(request.channel)}  "
                f"{category}{case}  {beijing_time(request.created_at)}\n"
                f"    {_user(request.summary)}"
            )
        if not requests:
            self.print("(queue is empty)")
        return 0

    def handoff_take(self, conversation_id: str, agent: str, reassign: bool) -> int:
        request = self.handoffs.take(conversation_id, agent, reassign=reassign)
        self.print(f"{_user(request.conversation_id)}: taken by {_user(request.taken_by)}")
        return 0

    def handoff_show(self, conversation_id: str) -> int:
        conversation = self.handoffs.conversation(conversation_id)
        request, slots, events = conversation.request, conversation.slots, conversation.events
        category = self.labels.category(request.category) if request.category else "-"
        taken_by = f" ({_user(request.taken_by)})" if request.taken_by else ""
        self.print(
            f"{_user(request.conversation_id)}  {request.status}{taken_by}  "
            f"{_user(request.channel)}  {category}  {beijing_time(request.created_at)}"
        )
        self.print(f"summary: {_user(request.summary)}")
        self.print("\ntranscript (numbers masked):")
        for line in transcript_lines(events):
            self.print(f"  {line.time}  {line.speaker}: {line.text}")
            if line.understanding:
                self.print(f"      understood as: {line.understanding}")
        situation = situation_discussed(slots, events) or request.category
        title, steps = recommended_steps(situation, slots)
        if steps:
            self.print(f"\nrecommended steps ({title}):")
            for number, step in enumerate(steps, start=1):
                self.print(f"  {number}. {step}")
        # The handoff records only a case this conversation was verified for; a number the user
        # merely typed is shown as such, so an agent is not led to discuss someone else's case.
        case_number = request.case_number
        if case_number:
            self.print("\ncase:")
            try:
                self.print("  " + self._case_line(self.store.get_case(case_number)))
            except CaseNotFound:  # the user asked about a number that does not exist
                self.print(f"  {_user(case_number)} (no such case)")
        elif slots.get("case_number"):
            self.print("\ncase number mentioned, NOT verified (ask for the last 4 phone digits):")
            self.print(f"  {_user(slots['case_number'])}")
        return 0

    def handoff_reply(self, conversation_id: str, text: str, agent: str) -> int:
        self.handoffs.reply(conversation_id, agent, text)
        self.print(f"{conversation_id}: sent as {agent}")
        return 0

    def handoff_release(self, conversation_id: str, summary: str | None) -> int:
        self.handoffs.release(conversation_id, summary=summary)
        self.print(f"{conversation_id}: released, the assistant answers this conversation again")
        return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    store: CaseStore | None = None,
    settings: Settings | None = None,
    out: TextIO | None = None,
    resume: ResumeFunction = resume_conversation,
    stdin: TextIO | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    settings = settings or get_settings()
    out = out or sys.stdout
    commands = StaffCommands(
        store=store or CaseStore(settings.database_url),
        settings=settings,
        labels=load_case_labels(),
        out=out,
        resume=resume,
    )
    try:
        if args.group == "agents":
            return run_agent_command(args, commands.store, out, stdin)
        if args.group == "photos":
            return photo_commands.run(args, commands.store, settings, out)
        if args.group == "cases":
            if args.command == "list":
                return commands.cases_list(args.status, args.limit)
            if args.command == "show":
                return commands.cases_show(args.case_number)
            if args.command == "set-status":
                return commands.cases_set_status(
                    args.case_number, args.status, args.note, args.author
                )
            if args.command == "add-note":
                return commands.cases_add_note(
                    args.case_number, args.note, args.private, args.author
                )
            return commands.cases_seed_demo()
        if args.command == "list":
            return commands.handoff_list(args.all)
        if args.command == "take":
            return commands.handoff_take(args.conversation_id, args.agent, args.reassign)
        if args.command == "show":
            return commands.handoff_show(args.conversation_id)
        if args.command == "reply":
            return commands.handoff_reply(args.conversation_id, args.text, args.agent)
        return commands.handoff_release(args.conversation_id, args.summary)
    except (CaseStoreError, RasaUnreachable) as error:
        print(f"error: {_user(error)}", file=out)
        return 1
