"""Masking of everything this process logs: messages, extra fields, tracebacks and stack traces,
on every handler, from any logger (see install_log_masking)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

from pos_assistant.privacy import mask_data, mask_text

_STANDARD_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


def _mask_record(record: logging.LogRecord) -> None:
    """Masks a record in place; masking is idempotent, so a record may pass here twice."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logged as is rather than dropped
        message = None
    if message is not None:
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    for name, value in list(record.__dict__.items()):
        # Fields passed with `extra=` (Sanic's access log puts the request line there).
        if name not in _STANDARD_RECORD_FIELDS and isinstance(value, str):
            setattr(record, name, mask_text(value))


class MaskingLogFilter(logging.Filter):
    """Rewrites log records so that no phone, ID or card number reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


_install_lock = threading.Lock()
_original_make_record: Any = None


def _masking_make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
    # Logger.makeRecord builds every record and then sets the `extra=` fields: mask after both.
    record = _original_make_record(self, *args, **kwargs)
    _mask_record(record)
    return record


def _masking_excepthook(
    kind: type[BaseException], value: BaseException, trace: TracebackType | None
) -> None:
    sys.stderr.write(mask_text("".join(traceback.format_exception(kind, value, trace))))


def _masking_thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(f"Exception in thread {getattr(args.thread, 'name', '?')}:\n")
    sys.stderr.write(mask_text(text))


def _mask_for_log(value: Any) -> Any:
    """Like mask_data; objects that the renderer will print (Rasa's events) masked as text."""
    if isinstance(value, dict):
        return {key: _mask_for_log(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_for_log(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return mask_data(value)
    if isinstance(value, BaseException):
        return value
    for text in (repr(value), str(value)):  # renderers print objects with one or the other
        masked = mask_text(text)
        if masked != text:
            return masked
    return value


def _mask_structlog_event(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: Rasa's structured events (parse_data_text=…) masked field by field.

    `exc_info` stays as it is for the processors that render it; this processor runs again just
    before the renderer, on the rendered traceback.
    """
    return {
        key: value if key == "exc_info" else _mask_for_log(value) for key, value in event.items()
    }


def _install_structlog_masking() -> None:
    try:
        import structlog
    except ImportError:
        return
    # The configured list itself (get_config does not copy it): loggers that already cached
    # their processors share it, so they mask too.
    processors = structlog.get_config()["processors"]
    if isinstance(processors, list) and _mask_structlog_event not in processors:
        # First (fields as Rasa logs them) and just before the renderer (tracebacks turned
        # into fields by the processors in between, such as dict_tracebacks).
        processors.insert(0, _mask_structlog_event)
        if len(processors) > 1:
            processors.insert(len(processors) - 1, _mask_structlog_event)


def install_log_masking() -> None:
    """Masks everything this process logs, from any logger, through any handler (idempotent).

    Four layers: Logger.makeRecord (every record's message, `extra=` fields, traceback and stack,
    from any logger, also those created later, such as Sanic's), a filter on every handler that
    exists now (records made elsewhere and handed over), a first processor for structlog (Rasa's
    structured debug events, which JSON-escape Chinese text), and the hooks that print uncaught
    exceptions.
    Call it once the server has set up its logging; calling it again adds what is new.
    """
    global _original_make_record
    with _install_lock:
        if _original_make_record is None:
            _original_make_record = logging.Logger.makeRecord
            logging.Logger.makeRecord = _masking_make_record  # type: ignore[method-assign]
            sys.excepthook = _masking_excepthook
            threading.excepthook = _masking_thread_excepthook
        _install_structlog_masking()
        loggers = [logging.getLogger()] + [
            logger
            for logger in list(logging.Logger.manager.loggerDict.values())
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            for handler in logger.handlers:
                if not any(isinstance(f, MaskingLogFilter) for f in handler.filters):
                    handler.addFilter(MaskingLogFilter())
