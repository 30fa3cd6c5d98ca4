"""The agent console in headless Chromium (1366×768) through the real servers: the widget user
sends two photos and asks for a person, the agent finds the conversation in the live queue, reads
it, opens and downloads the photos, takes it, sends an edited suggestion that the widget shows,
sees the customer's next message live, and releases it; the assistant then answers again.
Screenshots go to results/console-screenshots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image, ImageDraw
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
from tests.browser.test_widget_photos import attach
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


def parcel_photo(path: Path) -> Path:
    """A drawn parcel with its waybill (1024×768), so the screenshots show photos of something."""
    image = Image.new("RGB", (1024, 768), (214, 222, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((150, 140, 880, 660), fill=(176, 128, 78), outline=(120, 84, 48), width=8)
    draw.rectangle((460, 180, 840, 420), fill=(250, 250, 245))
    for x in range(490, 810, 14):
        draw.rectangle((x, 210, x + (8 if x % 3 else 4), 300), fill=(20, 20, 20))
    for y in (330, 360, 390):
        draw.line((490, y, 800, y), fill=(90, 90, 90), width=6)
    image.save(path, format="JPEG")
    return path


def terminal_photo(path: Path) -> Path:
    """A drawn POS terminal with its serial-number sticker (1024×768)."""
    image = Image.new("RGB", (1024, 768), (236, 230, 218))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((330, 80, 700, 700), radius=40, fill=(52, 58, 64))
    draw.rectangle((380, 130, 650, 300), fill=(120, 170, 200))
    for row in range(4):
        for column in range(3):
            x, y = 395 + column * 85, 340 + row * 80
            draw.rounded_rectangle((x, y, x + 60, y + 55), radius=8, fill=(200, 204, 208))
    draw.rectangle((560, 620, 690, 680), fill=(250, 250, 245))
    image.save(path, format="JPEG")
    return path


def thumbnails_loaded(browser: WebDriver) -> list[int]:
    """Natural widths of the photo thumbnails that loaded (0 for one the server refused)."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#photos img')]"
        ".filter((img) => img.complete && img.naturalWidth > 0).map((img) => img.naturalWidth)"
    )


def fetch(browser: WebDriver, url: str) -> dict:
    """GET `url` from the page with its cookies: status, Content-Disposition, image width."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(async (answer) => {"
        "  let width = 0;"
        "  if (answer.ok) width = (await createImageBitmap(await answer.blob())).width;"
        "  done({status: answer.status, disposition: answer.headers.get('content-disposition'),"
        "        width});"
        "}).catch((failure) => done({status: -1, error: String(failure)}));",
        url,
    )


def check_photo_opens_and_downloads(browser: WebDriver) -> None:
    """A thumbnail opens the full image in a new tab; the download link names a JPEG file."""
    page = browser.current_window_handle
    before = set(browser.window_handles)
    click(browser, ".photo-open")
    wait(browser, lambda: len(browser.window_handles) == len(before) + 1)
    [opened] = set(browser.window_handles) - before
    browser.switch_to.window(opened)
    wait(browser, lambda: browser.execute_script("return document.images.length") == 1)
    wait(browser, lambda: browser.execute_script("return document.images[0].naturalWidth") > 0)
    assert browser.execute_script("return document.images[0].naturalWidth") == 1024
    browser.close()
    browser.switch_to.window(page)
    link = browser.execute_script("return document.querySelector('.photo-download').href")
    answer = fetch(browser, link)
    assert answer["status"] == 200 and answer["width"] == 1024, answer
    assert answer["disposition"].startswith("attachment; filename="), answer


def login(browser: WebDriver, url: str, username: str) -> None:
    browser.get(url)
    wait(browser, lambda: browser.find_element(By.ID, "username").is_displayed(), 30)
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.find_element(By.ID, "login-button").click()
    wait(browser, lambda: browser.find_element(By.ID, "app-view").is_displayed(), 30)


def test_an_agent_takes_a_widget_conversation_over_in_the_console(
    browser: WebDriver,
    web_server: WebServer,
    rasa_stack: RasaStack,
    console: ConsoleProcess,
    tmp_path: Path,
) -> None:
    browser.set_window_size(1366, 768)
    widget = browser.current_window_handle
    open_widget(browser, web_server.url)
    seen = len(bubbles(browser, "bot"))
    say(browser, UNORDERED_DEVICE)
    wait_for_new_bot_reply(browser, seen)
    session_id = browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")
    conversation = conversation_id(session_id, "socketio")
    # The customer photographs the parcel and the terminal's serial number.
    photos = [parcel_photo(tmp_path / "parcel.jpg"), terminal_photo(tmp_path / "terminal.jpg")]
    assert attach(browser, *photos).startswith("已收到2张照片")

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
    # The photos: thumbnails loaded with the agent's session, each opening the full image.
    wait(browser, lambda: len(thumbnails_loaded(browser)) == 2)
    assert text_of(browser, "#photo-count") == "2"
    shot(browser, "2-conversation")
    check_photo_opens_and_downloads(browser)

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
    photo_url = browser.execute_script("return document.querySelector('.photo-open').href")
    browser.find_element(By.ID, "logout").click()
    wait(browser, lambda: browser.find_element(By.ID, "login-view").is_displayed(), 30)
    assert (
        not css(browser, "#photos li")
        and not browser.find_element(By.ID, "photos-box").is_displayed()
    )
    # Signed out, the same browser gets nothing at the photo's address.
    assert fetch(browser, photo_url)["status"] == 401
    assert httpx.get(photo_url, timeout=30).status_code == 401
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
