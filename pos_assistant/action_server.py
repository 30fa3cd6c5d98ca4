"""Starts the rasa_sdk action server on the address from settings (ACTION_HOST, default loopback).

`rasa run actions` (rasa_sdk 3.6) always listens on every interface; the action server has no
authentication and trusts the conversation id Rasa sends, so only the Rasa server may reach it.
This launcher is `rasa run actions` with the same arguments and behaviour (port, actions
package, logging options, /health and /webhook, no CORS unless `--cors` is given) plus the host.

    python -m pos_assistant.action_server --port 5055 --actions actions
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from pos_assistant import action_threads, event_delta
from pos_assistant.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = create_argument_parser()
    parser.prog = "python -m pos_assistant.action_server"
    parser.add_argument(
        "--host",
        default=None,
        help="address to listen on (default: ACTION_HOST, else 127.0.0.1). Use a private "
        "address reachable only by the Rasa servers, never 0.0.0.0 on a public machine.",
    )
    parser.set_defaults(actions="actions")
    return parser


def listen_host(requested: str | None) -> str:
    return requested or get_settings().action_host


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # rasa_sdk.endpoint.run reads the listen address from SANIC_HOST (default 0.0.0.0).
    os.environ["SANIC_HOST"] = listen_host(args.host)
    # Each action in a worker thread: a slow database holds up only the turns that need it.
    action_threads.install()
    # Our Rasa server's calls carry only the events not sent before (pos_assistant/event_delta.py).
    event_delta.install()
    main_from_args(args)


if __name__ == "__main__":
    main()
