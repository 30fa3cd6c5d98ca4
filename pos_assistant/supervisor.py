"""Keeps `make run`'s servers running: one that dies is restarted with backoff; the others go on.

    python -m pos_assistant.supervisor --log-dir var/logs \\
        --service 'actions=.venv/bin/python -m pos_assistant.action_server --port 5055' \\
        --service 'rasa=.venv/bin/rasa run …'

Each server's output is appended to <log-dir>/<name>.log (a restart keeps what came before).
A server that exits, for whatever reason, is started again after 1 s, then 2, 4 … up to 30 s
while it keeps dying soon after starting; one that ran for a minute starts over at 1 s. Only
SIGINT or SIGTERM (Ctrl-C) stops the supervisor: it sends SIGTERM to every server, waits for
them, kills what is left after a grace period, and exits 0. Production uses systemd instead
(deploy/), with the same policy.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

logger = logging.getLogger("run")

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
# A server that ran this long before dying is restarted at once (its next death starts over).
HEALTHY_AFTER_SECONDS = 60.0
STOP_GRACE_SECONDS = 20.0
POLL_SECONDS = 0.2


@dataclass
class Service:
    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = FIRST_DELAY_SECONDS
    restarts: int = field(default=0)


def next_delay(current: float, ran_for: float) -> tuple[float, float]:
    """(wait before this restart, wait before the one after): doubling while it keeps dying."""
    if ran_for >= HEALTHY_AFTER_SECONDS:
        return FIRST_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2
    return current, min(current * 2, MAX_DELAY_SECONDS)


class Supervisor:
    def __init__(self, services: list[Service]) -> None:
        self.services = services
        self.stopping = False

    def start(self, service: Service) -> None:
        with service.log_path.open("ab") as log:
            service.process = subprocess.Popen(
                service.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        service.started_at = time.monotonic()
        service.restart_at = None
        logger.info("%s started (pid %d)", service.name, service.process.pid)

    def check(self, service: Service, now: float) -> None:
        if service.process is None:
            if service.restart_at is not None and now >= service.restart_at:
                service.restarts += 1
                self.start(service)
            return
        code = service.process.poll()
        if code is None:
            return
        service.process = None
        wait, service.delay = next_delay(service.delay, now - service.started_at)
        service.restart_at = now + wait
        logger.warning(
            "%s stopped unexpectedly (exit code %s); restarting in %.0f s (see %s)",
            service.name,
            code,
            wait,
            service.log_path,
        )

    def run(self) -> int:
        for service in self.services:
            self.start(service)
        while not self.stopping:
            now = time.monotonic()
            for service in self.services:
                if not self.stopping:
                    self.check(service, now)
            time.sleep(POLL_SECONDS)
        self.stop_all()
        return 0

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def stop_all(self) -> None:
        running = [s.process for s in self.services if s.process and s.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logger.info("all servers stopped")


def parse_service(spec: str, log_dir: Path) -> Service:
    name, separator, command = spec.partition("=")
    if not separator or not name.isidentifier() or not command.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=COMMAND, got {spec!r}")
    return Service(name=name, command=shlex.split(command), log_path=log_dir / f"{name}.log")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pos_assistant.supervisor")
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--service", action="append", required=True, metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="run: %(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stdout,
    )
    args.log_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor([parse_service(spec, args.log_dir) for spec in args.service])
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
