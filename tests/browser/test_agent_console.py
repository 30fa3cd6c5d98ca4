"""The agent console in headless Chromium (1366×768) through the real servers: the widget user
asks for a person, the agent finds the conversation in the live queue, reads it, takes it, sends
an edited suggestion that the widget shows, sees the customer's next message live, and releases
it; the assistant then answers again. Screenshots go to results/console-screenshots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.test_chat_widget import (
    UNORDERED_DEVICE,
    bubbles,
    open_widget,
    say,
    wait,
    wait_for_new_bot_reply,
)
from tests.console.server import ConsoleProcess, running_console_process
from tests.e2e.stack import PROJECT_ROOT, RasaStack, WebServer, conversation_id

pytestmark = pytest.mark.browser

PAGE_TEXTS = yaml.safe_load((PROJECT_ROOT / "data" / "console.yml").read_text("utf-8"))["page"]
SHOTS = PROJECT_ROOT / "results" / "console-screenshots"


@pytest.fixture(scope="module")
def console(
    rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleProcess]:
    with running_console_process(rasa_stack.env, tmp_path_factory.mktemp("console")) as running:
        running.add_account("agent1")
        running.add_account("agent2")
        running.add_account("lead1", "lead")
        yield running


def shot(browser: WebDriver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def css(browser: WebDriver, selector: str) -> list:
    return browser.find_elements(By.CSS_SELECTOR, selector)


def text_of(browser: WebDriver, selector: str) -> str:
    return texts(browser, selector)[0] if texts(browser, selector) else ""


def texts(browser: WebDriver, selector: str) -> list[str]:
    """Texts read in one step in the page: the live view re-renders, so elements found in one
    call may be gone in the next."""
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((node) => node.innerText)",
        selector,
    )


def click(browser: WebDriver, selector: str, last: bool = False) -> None:
    """Clicks the first (or last) match, found and clicked in one step (see `texts`)."""
    browser.execute_script(
        "const nodes = document.querySelectorAll(arguments[0]);"
        "nodes[arguments[1] ? nodes.length - 1 : 0].click();",
        selector,
        last,
    )


def login(browser: WebDriver, url: str, username: str) -> None:
    browser.get(url)
    wait(browser, lambda: browser.find_element(By.ID, "username").is_displayed(), 30)
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.find_element(By.ID, "login-button").click()
    wait(browser, lambda: browser.find_element(By.ID, "app-view").is_displayed(), 30)


def test_an_agent_takes_a_widget_conversation_over_in_the_console(
    browser: WebDriver, web_server: WebServer, rasa_stack: RasaStack, console: ConsoleProcess
) -> None:
    browser.set_window_size(1366, 768)
    widget = browser.current_window_handle
    open_widget(browser, web_server.url)
    seen = len(bubbles(browser, "bot"))
    say(browser, UNORDERED_DEVICE)
    wait_for_new_bot_reply(browser, seen)
    session_id = browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")
    conversation = conversation_id(session_id, "socketio")

    browser.switch_to.new_window("tab")
    agent_tab = browser.current_window_handle
    login(browser, console.url, "agent1")
    assert browser.find_element(By.ID, "me").text == "agent1"

    browser.switch_to.window(widget)
    seen = len(bubbles(browser, "bot"))
    say(browser, "转人工")
    assert "转接人工客服" in wait_for_new_bot_reply(browser, seen)[-1]
    asked_at = time.monotonic()

    # The queue updates itself (server-sent events): no reload.
    browser.switch_to.window(agent_tab)
    item_selector = f'.queue-item[data-conversation="{conversation}"]'
    wait(browser, lambda: css(browser, item_selector), 30)
    print(f"queue showed the handoff {time.monotonic() - asked_at:.1f} s after the request")
    shot(browser, "1-queue")

    click(browser, item_selector)
    wait(browser, lambda: UNORDERED_DEVICE in text_of(browser, "#transcript"))
    readings = texts(browser, "#transcript .msg.user .reading")
    assert any("report_unordered_device" in reading for reading in readings), readings
    assert any("request_human" in reading for reading in readings), readings
    assert len(css(browser, "#steps li")) >= 3
    assert text_of(browser, "#situation-title") == "没买POS机却收到一台设备"
    # Times are Beijing time, as the assistant's own messages say, whatever the agent's machine.
    beijing_hours = {f"{(time.gmtime().tm_hour + 8 + extra) % 24:02d}:" for extra in (-1, 0)}
    first_time = texts(browser, "#transcript .msg .meta")[0].split()[-1]
    assert first_time[:3] in beijing_hours, first_time
    shot(browser, "2-conversation")

    browser.find_element(By.ID, "take").click()
    wait(browser, lambda: text_of(browser, "#notice") == PAGE_TEXTS["taken_ok"])
    wait(browser, lambda: "agent1" in text_of(browser, "#conversation-owner"))

    # A second agent cannot take it, and learns who has it.
    other = console.login("agent2")
    refused = other.post(f"/api/conversations/{conversation}/take")
    assert refused.status_code == 409 and refused.json()["owner"] == "agent1"

    suggestion = texts(browser, ".suggestion p")[0]
    click(browser, ".suggestion-use")
    field = browser.find_element(By.ID, "reply-text")
    assert field.get_attribute("value") == suggestion
    field.send_keys(" 请问机器是哪天收到的？")
    edited = suggestion + " 请问机器是哪天收到的？"
    browser.find_element(By.ID, "send").click()
    wait(browser, lambda: text_of(browser, "#notice") == PAGE_TEXTS["sent_ok"])
    shot(browser, "3-reply-sent")

    browser.switch_to.window(widget)
    assert wait_for_new_bot_reply(browser, seen + 1) == [edited]
    shot(browser, "4-widget-shows-reply")
    say(browser, "昨天收到的")

    # The customer's message appears in the console by itself, with the assistant's reading.
    browser.switch_to.window(agent_tab)
    wait(browser, lambda: "昨天收到的" in texts(browser, "#transcript .msg.user")[-1])
    assert edited in texts(browser, "#transcript .msg.agent")[-1]
    # The agent marks that reading as wrong and picks the right one (for the lead to review).
    click(browser, "#transcript .msg.user .correct-button", last=True)
    wait(browser, lambda: css(browser, ".correction .correct-submit"))
    click(browser, ".correction .correct-submit")
    wait(browser, lambda: PAGE_TEXTS["corrected_ok"] in text_of(browser, "#transcript"))
    browser.find_element(By.ID, "release-summary").send_keys("已问收货时间，交还助手")
    browser.find_element(By.ID, "release").click()
    wait(browser, lambda: text_of(browser, "#notice") == PAGE_TEXTS["released_ok"])
    wait(browser, lambda: not css(browser, item_selector))
    shot(browser, "5-released")

    # The assistant answers the customer again, without the agent's summary.
    browser.switch_to.window(widget)
    seen = len(bubbles(browser, "bot"))
    say(browser, UNORDERED_DEVICE)
    answers = wait_for_new_bot_reply(browser, seen)
    assert answers and all("交还助手" not in answer for answer in answers)
    shot(browser, "6-assistant-again")

    # The lead reviews the agent's correction and reads the audit log.
    browser.switch_to.window(agent_tab)
    browser.find_element(By.ID, "logout").click()
    wait(browser, lambda: browser.find_element(By.ID, "login-view").is_displayed(), 30)
    browser.find_element(By.ID, "username").clear()
    browser.find_element(By.ID, "username").send_keys("lead1")
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.find_element(By.ID, "login-button").click()
    wait(browser, lambda: browser.find_element(By.ID, "lead-box").is_displayed(), 30)
    assert not texts(browser, "#transcript .msg")  # nothing of agent1's screen is left
    wait(browser, lambda: "昨天收到的" in " ".join(texts(browser, ".pending-correction")))
    wait(browser, lambda: "handoff.reply" in " ".join(texts(browser, "#audit-log li")))
    shot(browser, "7-lead-panel")
    click(browser, ".pending-correction button")
    wait(browser, lambda: texts(browser, "#pending-corrections li") == [PAGE_TEXTS["no_pending"]])
