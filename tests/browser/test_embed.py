"""The one-tag snippet on another website: a hostile-CSS page on another origin (web/host_page.py).

The relay (web/server.py) allows that origin through WIDGET_ALLOWED_ORIGINS (tests/browser/
conftest.py); `stranger_page` is the same site on an origin it does not allow.
"""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageChops
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import RESULTS, HostPage
from tests.browser.widget_page import (
    active_options,
    bubbles,
    find,
    open_widget,
    say,
    wait,
    wait_for_new_bot_reply,
    widget_ready,
)
from tests.e2e.stack import WebServer

pytestmark = pytest.mark.browser

# Properties that show whether the page's CSS reached into the widget.
STYLE_PROBES = {
    ".pa-launcher": ("font-size", "background-color", "color", "padding", "width", "position"),
    ".pa-panel": ("width", "height", "right", "bottom", "display", "opacity", "transform"),
    ".pa-header": ("background-color", "color", "padding", "border-top-width"),
    ".pa-title": ("font-size", "font-family", "line-height", "letter-spacing", "color"),
    ".pa-message.pa-bot": ("font-size", "line-height", "color", "background-color", "padding"),
    ".pa-option": ("font-size", "color", "background-color", "border-top-color", "width"),
    ".pa-input": ("font-size", "height", "color", "background-color", "border-top-width"),
}
# An element screenshot of the panel has the page behind its rounded corners and a blinking
# caret; anything the page's CSS changed (font, sizes, colours) changes far more pixels.
MAX_DIFFERENT_PIXELS = 0.01
STYLE_SCRIPT = """
const root = document.querySelector('pos-assistant-widget').shadowRoot;
const result = {};
for (const [selector, names] of Object.entries(arguments[0])) {
  const style = getComputedStyle(root.querySelector(selector));
  result[selector] = names.map(name => style.getPropertyValue(name));
}
const host = getComputedStyle(document.querySelector('pos-assistant-widget'));
result.host = [host.opacity, host.transform, host.position, host.filter];
return result;
"""


def widget_look(browser: WebDriver, name: str) -> tuple[dict, Image.Image]:
    """Computed styles of the widget's parts and a screenshot of its panel (kept in results/)."""
    browser.execute_script(
        "document.querySelector('pos-assistant-widget').shadowRoot"
        ".querySelector('.pa-input').blur()"
    )
    styles = browser.execute_script(STYLE_SCRIPT, STYLE_PROBES)
    RESULTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(RESULTS / f"embed-{name}-page.png"))
    png = find(browser, ".pa-panel").screenshot_as_png
    (RESULTS / f"embed-{name}-panel.png").write_bytes(png)
    return styles, Image.open(io.BytesIO(png)).convert("RGB")


def different_pixels(first: Image.Image, second: Image.Image) -> float:
    assert first.size == second.size
    difference = ImageChops.difference(first, second).convert("L")
    changed = difference.point(lambda value: 255 if value > 16 else 0).histogram()[255]
    return changed / (first.size[0] * first.size[1])


def test_the_snippet_on_a_hostile_page_chats_and_looks_as_on_the_demo_page(
    browser: WebDriver, web_server: WebServer, host_page: HostPage
) -> None:
    open_widget(browser, web_server.url)
    wait(browser, lambda: len(active_options(browser)) > 0)
    demo_styles, demo_panel = widget_look(browser, "demo")

    open_widget(browser, host_page.url)
    wait(browser, lambda: len(active_options(browser)) > 0)
    assert bubbles(browser, "bot")[0].startswith("您好，我是POS机纠纷助手")
    host_styles, host_panel = widget_look(browser, "hostile")

    assert host_styles == demo_styles
    assert different_pixels(demo_panel, host_panel) < MAX_DIFFERENT_PIXELS

    # It chats: a quick reply and a typed message both get answers, cross-origin.
    seen = len(bubbles(browser, "bot"))
    active_options(browser)[0].click()
    assert wait_for_new_bot_reply(browser, seen)
    seen = len(bubbles(browser, "bot"))
    say(browser, "我没买POS机却收到一台")
    assert wait_for_new_bot_reply(browser, seen)
    browser.save_screenshot(str(RESULTS / "embed-hostile-chatting.png"))

    # The widget's styles did not reach the page's own elements that share its class names.
    decoy = browser.find_element(By.CSS_SELECTOR, "button.pa-launcher.decoy")
    assert decoy.value_of_css_property("position") != "fixed"
    assert decoy.value_of_css_property("background-color") == "rgba(255, 0, 255, 1)"


def test_the_snippet_options_set_title_position_colour_and_open_on_load(
    browser: WebDriver, host_page: HostPage
) -> None:
    browser.get(f"{host_page.url}/?title=商户客服&position=left&color=%23ffd200&open=true")
    wait(browser, lambda: widget_ready(browser), 20)
    panel = find(browser, ".pa-panel")
    wait(browser, lambda: panel.is_displayed(), 10)  # opened on load, without a click
    assert find(browser, ".pa-title").text == "商户客服"
    assert panel.rect["x"] == 20
    header = find(browser, ".pa-header")
    assert header.value_of_css_property("background-color") == "rgba(255, 210, 0, 1)"
    # White on this yellow would fail WCAG AA: the widget writes dark text on it instead.
    assert header.value_of_css_property("color") == "rgba(29, 33, 37, 1)"
    # Opened on load, it leaves the focus on the page the visitor is reading.
    assert browser.execute_script("return document.activeElement === document.body")
    browser.save_screenshot(str(RESULTS / "embed-options.png"))


def test_an_origin_not_allowed_gets_no_widget(
    browser: WebDriver, web_server: WebServer, stranger_page: HostPage
) -> None:
    browser.get(stranger_page.url)
    config_url = f"{web_server.url}/config.json"
    wait(
        browser,
        lambda: any(config_url in entry["message"] for entry in browser.get_log("browser")),
        20,
    )
    assert browser.find_elements(By.CSS_SELECTOR, "pos-assistant-widget") == []


@pytest.mark.parametrize("path", ["/config.json", "/socket.io/?EIO=4&transport=polling"])
def test_the_relay_refuses_origins_not_allowed(
    web_server: WebServer, host_page: HostPage, stranger_page: HostPage, path: str
) -> None:
    for origin in (stranger_page.url, "http://shop.example", "null"):
        answer = httpx.get(web_server.url + path, headers={"Origin": origin}, timeout=30)
        assert answer.status_code == 403, origin
        assert "access-control-allow-origin" not in answer.headers
    allowed = httpx.get(web_server.url + path, headers={"Origin": host_page.url}, timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == host_page.url
    # The demo page on the relay's own origin needs no setting.
    own = httpx.get(web_server.url + path, headers={"Origin": web_server.url}, timeout=30)
    assert own.status_code == 200


def test_the_relay_refuses_a_websocket_from_an_origin_not_allowed(
    web_server: WebServer, stranger_page: HostPage
) -> None:
    handshake = {
        "Origin": stranger_page.url,
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    answer = httpx.get(
        f"{web_server.url}/socket.io/?EIO=4&transport=websocket", headers=handshake, timeout=30
    )
    assert answer.status_code == 403
