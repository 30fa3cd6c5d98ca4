"""Reading and driving the widget in a page: it lives in the Shadow DOM of its host element."""

from __future__ import annotations

from pathlib import Path

import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.shadowroot import ShadowRoot
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

WIDGET_TEXTS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "channels" / "web.yml").read_text("utf-8")
)
REPLY_WAIT_SECONDS = 90  # a wait for the assistant, not an assertion on its speed
# The widget's shadow root, for scripts run in the page.
ROOT_JS = "document.querySelector('pos-assistant-widget').shadowRoot"


def wait(browser: WebDriver, condition, seconds: float = REPLY_WAIT_SECONDS):
    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(lambda _: condition())


def widget(browser: WebDriver) -> ShadowRoot:
    return browser.find_element(By.CSS_SELECTOR, "pos-assistant-widget").shadow_root


def find(browser: WebDriver, selector: str) -> WebElement:
    return widget(browser).find_element(By.CSS_SELECTOR, selector)


def find_all(browser: WebDriver, selector: str) -> list[WebElement]:
    return widget(browser).find_elements(By.CSS_SELECTOR, selector)


def bubbles(browser: WebDriver, role: str) -> list[str]:
    return [node.text for node in find_all(browser, f".pa-message.pa-{role}")]


def active_options(browser: WebDriver) -> list[WebElement]:
    return [button for button in find_all(browser, ".pa-option") if button.is_enabled()]


def status_state(browser: WebDriver) -> str:
    return find(browser, ".pa-status").get_attribute("data-state") or ""


def widget_ready(browser: WebDriver) -> bool:
    """The widget is mounted and its stylesheet has loaded (it stays hidden until then)."""
    return bool(
        browser.execute_script(
            "const host = document.querySelector('pos-assistant-widget');"
            "const root = host && host.shadowRoot && host.shadowRoot.querySelector('.pa-root');"
            "return !!root && !root.hidden;"
        )
    )


def open_widget(browser: WebDriver, url: str) -> None:
    """Opens the chat panel and waits for the assistant's welcome (a new conversation asks for
    it with /session_start) or, after a reload, for the restored history."""
    browser.get(url)
    wait(browser, lambda: widget_ready(browser), 20)
    launcher = find(browser, ".pa-launcher")
    if launcher.is_displayed():
        launcher.click()
    wait(browser, lambda: status_state(browser) == "connected", 30)
    wait(browser, lambda: len(bubbles(browser, "bot")) >= 1)


def say(browser: WebDriver, text: str) -> None:
    find(browser, ".pa-input").send_keys(text)
    find(browser, ".pa-send").click()


def wait_for_new_bot_reply(browser: WebDriver, seen: int) -> list[str]:
    wait(browser, lambda: len(bubbles(browser, "bot")) > seen)
    return bubbles(browser, "bot")[seen:]


def focused_in_widget(browser: WebDriver) -> str:
    """The class of the element focused inside the widget ('' when the focus is elsewhere)."""
    return browser.execute_script(
        f"const active = {ROOT_JS}.activeElement; return active ? active.className : '';"
    )
