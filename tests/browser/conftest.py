"""Headless Chromium (Debian's /usr/bin/chromium + chromedriver) and the widget's web server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.e2e.stack import PROJECT_ROOT, RasaStack, WebServer, running_web_server

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def web_server(
    rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebServer]:
    if not (PROJECT_ROOT / "web" / "static" / "vendor" / "socket.io.min.js").is_file():
        pytest.fail("web/static/vendor/socket.io.min.js is missing: run `make setup`")
    with running_web_server(rasa_stack.rasa_url, tmp_path_factory.mktemp("web")) as server:
        yield server


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
