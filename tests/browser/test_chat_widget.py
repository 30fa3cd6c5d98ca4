"""The chat widget in real headless Chromium against the running assistant."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.widget_page import (
    ROOT_JS,
    WIDGET_TEXTS,
    active_options,
    bubbles,
    find,
    open_widget,
    say,
    status_state,
    wait,
    wait_for_new_bot_reply,
)
from tests.e2e.stack import RasaStack, WebServer, conversation_id
from tests.e2e.test_conversation_flows import staff

pytestmark = pytest.mark.browser

UNORDERED_DEVICE = "我没买POS机却收到一台"
MAX_FOLLOW_UP_QUESTIONS = 4
# The reply may come back before Selenium looks, so record whether the indicator ever showed.
WATCH_TYPING_INDICATOR = f"""
window.typingIndicatorShown = false;
const typing = {ROOT_JS}.querySelector('.pa-typing');
new MutationObserver(() => {{ if (!typing.hidden) window.typingIndicatorShown = true; }})
  .observe(typing, {{attributes: true}});
"""


def rest_reply_texts(rasa_stack: RasaStack, sender: str, text: str) -> tuple[list[str], list[str]]:
    """What the REST channel answers: text paragraphs (socket.io splits on blank lines), buttons."""
    paragraphs: list[str] = []
    titles: list[str] = []
    for reply in rasa_stack.send(sender, text):
        if reply.get("text"):
            paragraphs.extend(part.strip() for part in reply["text"].strip().split("\n\n"))
        titles.extend(button["title"] for button in reply.get("buttons", []))
    return paragraphs, titles


def test_advice_quick_replies_and_history_after_reload(
    browser: WebDriver, web_server: WebServer, rasa_stack: RasaStack, sender: str, screenshot
) -> None:
    open_widget(browser, web_server.url)
    assert find(browser, ".pa-title").text == WIDGET_TEXTS["title"]
    # A new conversation opens with the assistant's welcome and its quick replies.
    assert "POS机纠纷助手" in bubbles(browser, "bot")[0]
    assert "转人工" in [button.text for button in active_options(browser)]
    seen = len(bubbles(browser, "bot"))

    # The first answer is the one the REST channel gives to the same text, buttons included.
    browser.execute_script(WATCH_TYPING_INDICATOR)
    say(browser, UNORDERED_DEVICE)
    assert bubbles(browser, "user")[-1] == UNORDERED_DEVICE
    expected_paragraphs, expected_titles = rest_reply_texts(
        rasa_stack, f"{sender}-rest", UNORDERED_DEVICE
    )
    assert expected_titles, "the assistant is expected to offer quick replies here"
    wait(browser, lambda: len(bubbles(browser, "bot")) >= seen + len(expected_paragraphs))
    wait(browser, lambda: len(active_options(browser)) == len(expected_titles))
    assert bubbles(browser, "bot")[seen:] == expected_paragraphs
    assert [button.text for button in active_options(browser)] == expected_titles
    # Written out here as well, so the widget is not only compared with the REST channel.
    first_question = "有没有人打电话或发消息联系您，索要验证码、卡号，或者让您付钱？"
    assert first_question in bubbles(browser, "bot")
    assert [button.text for button in active_options(browser)] == ["是", "否"]
    assert browser.execute_script("return window.typingIndicatorShown") is True
    assert not find(browser, ".pa-typing").is_displayed()
    screenshot("first-answer")

    # Answer by quick replies ("否" where offered) until the recommended steps are shown.
    for _ in range(MAX_FOLLOW_UP_QUESTIONS):
        options = active_options(browser)
        choice = next((button for button in options if button.text == "否"), options[0])
        title = choice.text
        seen = len(bubbles(browser, "bot"))
        choice.click()
        assert bubbles(browser, "user")[-1] == title
        assert wait_for_new_bot_reply(browser, seen)[0].strip()
        if shows_recommended_steps(bubbles(browser, "bot")) or not active_options(browser):
            break
    assert shows_recommended_steps(bubbles(browser, "bot"))
    screenshot("steps")

    # A reload shows the same conversation and keeps talking in the same Rasa session.
    session_id = browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")
    history_before = bubbles(browser, "user"), bubbles(browser, "bot")
    browser.refresh()
    wait(browser, lambda: status_state(browser) == "connected", 30)
    assert (bubbles(browser, "user"), bubbles(browser, "bot")) == history_before
    stored_id = browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")
    assert stored_id == session_id
    seen = len(bubbles(browser, "bot"))
    say(browser, "谢谢")
    wait_for_new_bot_reply(browser, seen)
    screenshot("after-reload")
    tracker_texts = [
        event["text"]
        for event in rasa_stack.tracker(session_id, "socketio")["events"]
        if event["event"] == "user" and event["text"] != "/session_start"  # the widget's own
    ]
    assert tracker_texts[0] == UNORDERED_DEVICE and tracker_texts[-1] == "谢谢"
    assert len(tracker_texts) == len(bubbles(browser, "user"))


def shows_recommended_steps(bot_texts: list[str]) -> bool:
    """The advice for an unordered device: verify the source, keep evidence."""
    text = "\n".join(bot_texts)
    return "核实" in text and "保留证据" in text


def test_message_text_is_shown_as_text_never_as_html(
    browser: WebDriver, web_server: WebServer
) -> None:
    open_widget(browser, web_server.url)
    hostile = "<img src=x onerror=\"document.title='pwned'\"><b>粗体</b>"
    seen = len(bubbles(browser, "bot"))
    say(browser, hostile)
    assert bubbles(browser, "user")[-1] == hostile
    # The assistant's answer has come back: the page had a whole round trip to run a handler.
    wait_for_new_bot_reply(browser, seen)
    messages = find(browser, ".pa-messages")
    assert messages.find_elements(By.CSS_SELECTOR, "img, b") == []
    assert browser.title != "pwned"  # (the page's CSP would also block an inline handler)
    # The same markup put in as HTML would be found by the check above.
    browser.execute_script(
        "const probe = document.createElement('div'); probe.innerHTML = arguments[0];"
        f"{ROOT_JS}.querySelector('.pa-messages').appendChild(probe);",
        hostile,
    )
    assert len(messages.find_elements(By.CSS_SELECTOR, "img, b")) == 2


def test_the_page_needs_no_network_beyond_its_own_server(
    browser: WebDriver, web_server: WebServer
) -> None:
    """No CDN: with every host name lookup blocked (conftest), the page still loads, connects
    and shows the welcome, and everything it fetched came from its own server."""
    open_widget(browser, web_server.url)
    assert "POS机纠纷助手" in bubbles(browser, "bot")[0]
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    assert any(name.endswith("/embed.js") for name in fetched), fetched
    assert [name for name in fetched if not name.startswith(web_server.url)] == []


def test_the_widget_shows_a_network_drop_and_reconnects(
    browser: WebDriver, web_server: WebServer, screenshot
) -> None:
    open_widget(browser, web_server.url)
    web_server.stop()
    try:
        wait(browser, lambda: status_state(browser) == "reconnecting", 30)
        status = find(browser, ".pa-status").text
        assert status == WIDGET_TEXTS["status_reconnecting"]
        screenshot("reconnecting")
    finally:
        web_server.start()
    wait(browser, lambda: status_state(browser) == "connected", 60)
    seen = len(bubbles(browser, "bot"))
    say(browser, "你好")
    assert wait_for_new_bot_reply(browser, seen)


def test_on_a_phone_the_panel_fills_the_screen(
    browser: WebDriver, web_server: WebServer, screenshot
) -> None:
    browser.set_window_size(390, 844)
    open_widget(browser, web_server.url)
    panel = find(browser, ".pa-panel")
    viewport = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    assert [panel.rect["x"], panel.rect["y"]] == [0, 0]
    assert [round(panel.rect["width"]), round(panel.rect["height"])] == viewport
    seen = len(bubbles(browser, "bot"))
    say(browser, UNORDERED_DEVICE)
    wait_for_new_bot_reply(browser, seen)
    screenshot("phone")


def test_an_agents_reply_appears_in_the_open_widget(
    browser: WebDriver, web_server: WebServer, rasa_stack: RasaStack
) -> None:
    open_widget(browser, web_server.url)
    seen = len(bubbles(browser, "bot"))
    say(browser, "转人工")
    assert "转接人工客服" in wait_for_new_bot_reply(browser, seen)[-1]
    seen = len(bubbles(browser, "bot"))
    session_id = browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")
    conversation = conversation_id(session_id, "socketio")
    staff(rasa_stack, "handoff", "reply", conversation, "您好，我是客服小王，请问怎么称呼您？")
    assert wait_for_new_bot_reply(browser, seen) == ["您好，我是客服小王，请问怎么称呼您？"]
