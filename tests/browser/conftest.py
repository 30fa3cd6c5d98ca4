"""Headless Chromium (Debian's /usr/bin/chromium + chromedriver) and the widget's web server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.e2e.stack import (
    PROJECT_ROOT,
    VENV_BIN,
    RasaStack,
    WebServer,
    free_port,
    running_web_server,
    wait_until_up,
)

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# Screenshots a person compares: the widget on the demo page and on the hostile-CSS site.
RESULTS = PROJECT_ROOT / "results" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass(frozen=True)
class HostPage:
    """web/host_page.py: a website on another origin (port) that embeds the widget."""

    url: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def host_page_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def web_server(
    rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory, host_page_port: int
) -> Iterator[WebServer]:
    if not (PROJECT_ROOT / "web" / "static" / "vendor" / "socket.io.min.js").is_file():
        pytest.fail("web/static/vendor/socket.io.min.js is missing: run `make setup`")
    env = {
        "DATABASE_URL": rasa_stack.env["DATABASE_URL"],
        "ATTACHMENTS_DIR": rasa_stack.env["ATTACHMENTS_DIR"],
        "RASA_API_TOKEN": rasa_stack.env["RASA_API_TOKEN"],
        "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{host_page_port}",
    }
    with running_web_server(rasa_stack.rasa_url, tmp_path_factory.mktemp("web"), env) as server:
        yield server


def _running_host_page(port: int, web_server: WebServer, log: Path) -> Iterator[HostPage]:
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(str(VENV_BIN / "python"), "-m", "web.host_page"),
                *("--port", str(port), "--widget-server", web_server.url),
            ],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"{url}/health", process, log, 30)
        yield HostPage(url, process)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def host_page(
    web_server: WebServer, host_page_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostPage]:
    """The hostile-CSS site on the origin WIDGET_ALLOWED_ORIGINS lists."""
    log = tmp_path_factory.mktemp("host") / "host.log"
    yield from _running_host_page(host_page_port, web_server, log)


@pytest.fixture(scope="session")
def stranger_page(
    web_server: WebServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostPage]:
    """The same site on an origin that is not allowed."""
    log = tmp_path_factory.mktemp("stranger") / "host.log"
    yield from _running_host_page(free_port(), web_server, log)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium / chromium-driver missing: run scripts/setup_system.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
        "--lang=zh-CN",
        # The network is blocked: no host name resolves, so a script, style or font from a CDN
        # could not load (the page is served from 127.0.0.1, which needs no lookup).
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(browser: webdriver.Chrome, request: pytest.FixtureRequest):
    """screenshot("step") saves test-artifacts/<test>-<step>.png (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        browser.save_screenshot(str(path))
        return path

    return take
