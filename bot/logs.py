"""Structured logs: one `key=value` line per event, easy to grep and to ship anywhere."""

from __future__ import annotations

import logging
import sys

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(
            {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
        )
        line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if escaped := _ESCAPES.get(char):
        return escaped
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _quote(value: object) -> str:
    """The value as is when plain, else quoted with every control character escaped.

    Values come from outside (a path with `%0A`, an error text), so a newline, a line separator
    or a bidi override must not start a forged line or reorder what a reader sees.
    """
    text = str(value)
    if text and text.isprintable() and not any(ch in text for ch in ' "=\\'):
        return text
    return '"' + "".join(map(_escape, text)) + '"'


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


# aiogram logs every handled update at INFO (ours counts them instead); aiosqlite logs every
# statement with its parameters (phones, names) at DEBUG: neither goes below WARNING.
QUIET_LOGGERS = ("aiogram.event", "aiosqlite")


def quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
