"""`python -m pos_assistant.staff agents …`: console accounts from the command line.

The password is read from standard input (one line; prompted twice without echo on a terminal),
never from the command line, where other users of the machine could see it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from pos_assistant.cases.labels import load_case_labels
from pos_assistant.cases.store import CaseStore
from pos_assistant.console.accounts import ROLES, AccountError, AccountStore
from pos_assistant.console.audit import AuditLog

CLI_ACTOR = "staff-cli"


def add_agent_commands(groups: Any) -> None:
    agents = groups.add_parser("agents", help="agent console accounts").add_subparsers(
        dest="command", required=True
    )
    add = agents.add_parser("add", help="create an account (password from standard input)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="agent")
    disable = agents.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    enable = agents.add_parser("enable", help="enable a disabled account again")
    enable.add_argument("username")
    agents.add_parser("list", help="accounts with role, state and routed topics")
    topics = agents.add_parser(
        "topics", help="route topics to an agent (their queue shows them first)"
    )
    topics.add_argument("username")
    topics.add_argument("topics", nargs="*", help="case category codes, e.g. unordered_device")


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("the passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def run_agent_command(
    args: argparse.Namespace, store: CaseStore, out: TextIO, stdin: TextIO | None = None
) -> int:
    accounts = AccountStore(store)
    audit = AuditLog(store)
    try:
        if args.command == "add":
            account = accounts.add(args.username, _read_password(stdin or sys.stdin), args.role)
            audit.record(CLI_ACTOR, "account.add", account.username, account.role)
            print(f"{account.username}: {account.role} account created", file=out)
        elif args.command in ("disable", "enable"):
            account = accounts.set_disabled(args.username, args.command == "disable")
            audit.record(CLI_ACTOR, f"account.{args.command}", account.username)
            print(f"{account.username}: {args.command}d", file=out)
        elif args.command == "topics":
            known = load_case_labels().categories
            unknown = [topic for topic in args.topics if topic not in known]
            if unknown:
                raise AccountError(f"unknown topics {unknown}; known: {', '.join(known)}")
            routed = accounts.set_topics(args.username, args.topics)
            audit.record(CLI_ACTOR, "account.topics", args.username, ",".join(routed))
            print(f"{args.username}: topics {' '.join(routed) or '(none)'}", file=out)
        else:
            routed_topics = accounts.topics()
            for account in accounts.list_accounts():
                state = "disabled" if account.is_disabled else "active"
                routed = " ".join(routed_topics.get(account.username, []))
                print(f"{account.username}  {account.role}  {state}  {routed}".rstrip(), file=out)
        return 0
    except AccountError as error:
        print(f"error: {error}", file=out)
        return 1
