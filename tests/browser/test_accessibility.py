"""The widget used with the keyboard alone, and an automated accessibility scan (axe-core)."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import RESULTS, HostPage
from tests.browser.widget_page import (
    active_options,
    bubbles,
    find,
    focused_in_widget,
    open_widget,
    status_state,
    wait,
    wait_for_new_bot_reply,
    widget_ready,
)
from tests.e2e.stack import PROJECT_ROOT, WebServer

pytestmark = pytest.mark.browser

AXE_SOURCE = PROJECT_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(arguments[0] || document, {resultTypes: ['violations']})
  .then(result => done(result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(node => node.target.join(' ')).slice(0, 5)}))))
  .catch(error => done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}]));
"""


def press(browser: WebDriver, *keys: str) -> None:
    ActionChains(browser).send_keys(*keys).perform()


def violations(browser: WebDriver, context: object) -> list[dict]:
    if not AXE_SOURCE.is_file():
        pytest.fail("web/node_modules/axe-core is missing: run `make setup` (npm ci in web/)")
    browser.execute_script(AXE_SOURCE.read_text(encoding="utf-8"))
    browser.set_script_timeout(60)
    return browser.execute_async_script(RUN_AXE, context)


def test_keyboard_only_open_type_choose_a_quick_reply_and_close(
    browser: WebDriver, web_server: WebServer
) -> None:
    browser.get(web_server.url)
    wait(browser, lambda: widget_ready(browser), 20)
    press(browser, Keys.TAB)
    assert focused_in_widget(browser) == "pa-launcher"
    press(browser, Keys.ENTER)
    assert focused_in_widget(browser) == "pa-input"  # opened: the focus is where one types
    wait(browser, lambda: status_state(browser) == "connected", 30)
    wait(browser, lambda: len(active_options(browser)) > 0)

    seen = len(bubbles(browser, "bot"))
    press(browser, "我没买POS机却收到一台", Keys.ENTER)
    assert bubbles(browser, "user")[-1] == "我没买POS机却收到一台"
    wait_for_new_bot_reply(browser, seen)
    wait(browser, lambda: [button.text for button in active_options(browser)] == ["是", "否"])

    # Back from the input field lands on the newest quick reply; Enter chooses it.
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert focused_in_widget(browser) == "pa-option"
    chosen = browser.execute_script(
        "return document.querySelector('pos-assistant-widget').shadowRoot.activeElement.textContent"
    )
    assert chosen == "否"
    seen = len(bubbles(browser, "bot"))
    press(browser, Keys.ENTER)
    assert bubbles(browser, "user")[-1] == "否"
    # The chosen button is disabled now; the focus went back to the input, not to the page.
    assert focused_in_widget(browser) == "pa-input"
    wait_for_new_bot_reply(browser, seen)

    press(browser, Keys.ESCAPE)
    assert not find(browser, ".pa-panel").is_displayed()
    assert focused_in_widget(browser) == "pa-launcher"
    assert find(browser, ".pa-launcher").get_attribute("aria-expanded") == "false"
    press(browser, Keys.ENTER)
    assert find(browser, ".pa-panel").is_displayed()
    assert focused_in_widget(browser) == "pa-input"


def test_new_messages_are_announced_and_every_control_is_labelled(
    browser: WebDriver, web_server: WebServer
) -> None:
    open_widget(browser, web_server.url)
    log = find(browser, ".pa-messages")
    assert log.get_attribute("role") == "log"
    assert log.get_attribute("aria-live") == "polite"
    # Every message and quick reply is added inside the live region.
    assert browser.execute_script(
        "const root = document.querySelector('pos-assistant-widget').shadowRoot;"
        "const log = root.querySelector('.pa-messages');"
        "return [...root.querySelectorAll('.pa-message, .pa-option')]"
        ".every(node => log.contains(node));"
    )
    assert find(browser, ".pa-panel").get_attribute("role") == "dialog"
    assert find(browser, ".pa-panel").accessible_name == find(browser, ".pa-title").text

    def unlabelled_controls() -> list[str]:
        controls = browser.execute_script(
            "return [...document.querySelector('pos-assistant-widget').shadowRoot"
            ".querySelectorAll('button, input')]"
        )
        shown = [control for control in controls if control.is_displayed()]
        assert shown
        return [c.get_attribute("outerHTML") for c in shown if not c.accessible_name.strip()]

    assert unlabelled_controls() == []
    find(browser, ".pa-close").click()
    assert find(browser, ".pa-launcher").accessible_name == find(browser, ".pa-launcher").text
    assert unlabelled_controls() == []


@pytest.mark.parametrize("page", ["demo", "hostile"])
def test_the_accessibility_scan_finds_nothing_serious(
    browser: WebDriver, web_server: WebServer, host_page: HostPage, page: str
) -> None:
    url = web_server.url if page == "demo" else host_page.url
    open_widget(browser, url)
    wait(browser, lambda: len(active_options(browser)) > 0)
    seen = len(bubbles(browser, "bot"))
    find(browser, ".pa-input").send_keys("我没买POS机却收到一台", Keys.ENTER)
    wait_for_new_bot_reply(browser, seen)
    wait(browser, lambda: len(active_options(browser)) > 0)
    # The demo page is ours: scanned whole. The hostile site is not: only the widget in it.
    context = None if page == "demo" else {"include": [["pos-assistant-widget"]]}
    found = violations(browser, context)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"axe-{page}.json").write_text(json.dumps(found, ensure_ascii=False, indent=2))
    assert [v for v in found if v["impact"] in BLOCKING_IMPACTS] == []
