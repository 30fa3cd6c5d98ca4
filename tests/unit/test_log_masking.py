"""Log masking reaches every way a server writes: own handlers, later handlers, tracebacks,
`extra=` fields (Sanic's access log), structlog events (Rasa's debug lines) and uncaught errors."""

from __future__ import annotations

import io
import logging
import sys

import pytest
import structlog
from rasa.shared.core.events import SlotSet

from pos_assistant.log_masking import install_log_masking

FULL_WIDTH_PHONE = "１３８１２３４５６７８"
SECRETS = ("13812345678", FULL_WIDTH_PHONE, "12345678", "１２３４５６７８", "一二三四 五六七八")


def _handler(logger_name: str, fmt: str = "%(message)s") -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    logger = logging.getLogger(logger_name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def _assert_masked(output: str) -> None:
    assert "138****5678" in output, output
    assert not any(secret in output for secret in SECRETS), output


def test_handlers_created_after_installing_are_masked_too() -> None:
    install_log_masking()
    # Like Sanic's error logger: its own handler, added when the app is created, no propagation.
    logger, stream = _handler("sanic.error.test_later")
    logger.info("user %s wrote %s", "rest:u1", f"我电话 {FULL_WIDTH_PHONE}")
    _assert_masked(stream.getvalue())


def test_tracebacks_are_masked() -> None:
    install_log_masking()
    logger, stream = _handler("tests.traceback")
    try:
        raise ValueError(f"bad phone 138-1234-5678 in {FULL_WIDTH_PHONE}")
    except ValueError:
        logger.exception("request failed")
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output
    _assert_masked(output)


def test_extra_fields_such_as_sanics_request_line_are_masked() -> None:
    install_log_masking()
    logger, stream = _handler("sanic.access.test", "%(request)s %(status)s")
    logger.info("", extra={"request": "GET /conversations/13812345678/tracker", "status": 200})
    _assert_masked(stream.getvalue())
    assert stream.getvalue().endswith("200\n")


def test_handlers_that_existed_before_get_the_filter_for_extra_fields() -> None:
    logger, stream = _handler("tests.existing", "%(request)s")
    install_log_masking()
    logger.info("", extra={"request": "POST /webhook 一三八一二三四五六七八"})
    assert "138****5678" in stream.getvalue()


def test_structlog_events_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    structlog.configure(
        processors=[structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    try:
        logger = structlog.get_logger()
        logger.info("before")  # caches its processors before masking is installed
        install_log_masking()
        logger.debug(
            "processor.message.parse",
            parse_data_text=f"我的电话是{FULL_WIDTH_PHONE}",
            parse_data_entities=[{"value": "138 1234 5678"}],
            # Rasa logs its events as objects that the renderer prints with str().
            rasa_events=[SlotSet("phone_number", "一三八 一二三四 五六七八")],
        )
        output = capsys.readouterr().out
        # JSONRenderer escapes Chinese text: masking ran before it, on the event's fields.
        printed = output.encode().decode("unicode_escape")
        assert "138****5678" in printed  # the event was printed, with the phone masked
        _assert_masked(printed)
    finally:
        structlog.reset_defaults()


def test_uncaught_exceptions_are_printed_masked(capsys: pytest.CaptureFixture[str]) -> None:
    install_log_masking()
    try:
        raise RuntimeError(f"crashed on {FULL_WIDTH_PHONE}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    output = capsys.readouterr().err
    assert "RuntimeError" in output
    _assert_masked(output)
