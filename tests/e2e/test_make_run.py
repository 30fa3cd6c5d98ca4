"""`make run` (scripts/run.sh) as a user runs it: a port in use is reported, not fought over; a
second run neither reinstalls nor retrains; a server that dies is restarted while the others keep
serving; Ctrl-C stops every server it started.

These run after `make test` has set up and trained (so here is always a second run). They use
free ports and never wait for the model to load: Ctrl-C is sent while the Rasa server is still
loading, the moment all three servers have been started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import MODEL_PATH, PROJECT_ROOT, free_port

pytestmark = pytest.mark.e2e

STAMPS = [PROJECT_ROOT / ".venv" / ".setup-stamp", PROJECT_ROOT / "models" / ".train-stamp"]
# Setup and training are stamped: a run that gets past them in this time did neither.
UP_TO_DATE_SECONDS = 120
MODEL_LOAD_SECONDS = 240


def run_env(ports: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "RASA_TELEMETRY_ENABLED": "false",
    }


def start_run(ports: dict[str, int], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=PROJECT_ROOT,
            env=run_env(ports),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )


def modification_times() -> list[float]:
    return [path.stat().st_mtime for path in [*STAMPS, MODEL_PATH]]


@pytest.fixture
def ports() -> dict[str, int]:
    return {
        "ACTION_PORT": free_port(),
        "RASA_PORT": free_port(),
        "WEB_PORT": free_port(),
        "CONSOLE_PORT": free_port(),
    }


@pytest.fixture
def occupied_rasa_port(ports: dict[str, int]) -> Iterator[socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", ports["RASA_PORT"]))
    listener.listen()
    try:
        yield listener
    finally:
        listener.close()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_port_in_use_is_reported_and_a_second_run_neither_reinstalls_nor_retrains(
    ports: dict[str, int], occupied_rasa_port: socket.socket, tmp_path: Path
) -> None:
    before = modification_times()
    process = start_run(ports, tmp_path / "run.log")
    deadline = time.monotonic() + UP_TO_DATE_SECONDS
    try:
        while process.poll() is None:
            if listening(ports["ACTION_PORT"]) or listening(ports["WEB_PORT"]):
                pytest.fail("run.sh started servers although the Rasa port is in use")
            if time.monotonic() > deadline:
                pytest.fail("run.sh did not reach its port check: it is reinstalling or retraining")
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    code = process.returncode
    output = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert code == 1, output
    assert f"port {ports['RASA_PORT']} is already in use" in output
    # Nothing was started, and the program on the port was left alone.
    assert not listening(ports["ACTION_PORT"]) and not listening(ports["WEB_PORT"])
    occupied_rasa_port.settimeout(5)
    assert listening(ports["RASA_PORT"])
    # A second run: setup and training were found up to date.
    assert "setup: installing" not in output and "train: training" not in output
    assert "train: model is up to date" in output
    assert modification_times() == before


def processes_in_group(pgid: int) -> list[int]:
    """Live processes of a process group, read from /proc (no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def process_in_group(pgid: int, module: str) -> int:
    """The process of the group that runs `python -m <module>` (not one that merely names it)."""
    for pid in processes_in_group(pgid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if [part.decode() for part in argv[1:3]] == ["-m", module]:
            return pid
    raise AssertionError(f"no process of group {pgid} runs {module}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def ask(rasa: str, sender: str, text: str) -> str:
    replies = httpx.post(
        f"{rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    ).json()
    return " ".join(reply.get("text", "") for reply in replies)


def test_servers_use_the_chosen_ports_a_killed_server_comes_back_and_ctrl_c_stops_all(
    ports: dict[str, int], tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    process = start_run(ports, log)
    try:
        # The action server and the web page answer within seconds; the Rasa server is started
        # between them, so once both answer, all three are running.
        deadline = time.monotonic() + UP_TO_DATE_SECONDS
        for port, path in ((ports["ACTION_PORT"], "/health"), (ports["WEB_PORT"], "/health")):
            while True:
                assert process.poll() is None, log.read_text(encoding="utf-8")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.5)
        # run.sh, the supervisor and its three servers
        assert len(processes_in_group(process.pid)) >= 5
        # The Rasa server reaches the action server on ACTION_PORT, not on a fixed port: the
        # first question of an advice flow needs the form's validation action.
        rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                if httpx.get(rasa, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline + MODEL_LOAD_SECONDS, log.read_text("utf-8")
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{ports['CONSOLE_PORT']}/health")
        assert "索要验证码" in ask(rasa, "make-run", "莫名其妙收到一台pos机，我根本没申请过")
        # The agent console answers on its port, and the banner names it.
        console_line = f"Agent console:          http://localhost:{ports['CONSOLE_PORT']}/"
        while console_line not in log.read_text(encoding="utf-8"):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline + MODEL_LOAD_SECONDS, log.read_text("utf-8")
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{ports['CONSOLE_PORT']}/health")

        # The action server dies: the supervisor starts it again within 30 s, the Rasa server
        # and the web page keep serving meanwhile, and the next message is answered normally.
        action = f"http://127.0.0.1:{ports['ACTION_PORT']}/health"
        web = f"http://127.0.0.1:{ports['WEB_PORT']}/health"
        killed = process_in_group(process.pid, "pos_assistant.action_server")
        os.kill(killed, signal.SIGKILL)
        killed_at = time.monotonic()
        while not answers(action):
            assert answers(rasa) and answers(web), "a server stopped with the action server"
            assert time.monotonic() - killed_at < 30, log.read_text(encoding="utf-8")
            time.sleep(0.5)
        assert process_in_group(process.pid, "pos_assistant.action_server") != killed
        assert "索要验证码" in ask(rasa, "make-run-2", "莫名其妙收到一台pos机，我根本没申请过")
        output = log.read_text(encoding="utf-8")
        assert "actions stopped unexpectedly (exit code -9); restarting in 1 s" in output, output

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert process.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        while process_group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not process_group_alive(process.pid), "a server outlived Ctrl-C"
        assert not any(listening(port) for port in ports.values())
        assert "run: stopping" in log.read_text(encoding="utf-8")
    finally:
        if process_group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
