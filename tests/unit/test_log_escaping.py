"""A logged value cannot forge a log line: control characters escaped, quoting unambiguous."""

import logging

import pytest

from bot.logs import KeyValueFormatter


def _line(msg: str = "pos request", *args: object, **extra: object) -> str:
    record = logging.makeLogRecord(
        {"name": "clientbase.pos", "levelname": "INFO", "msg": msg, "args": args, **extra}
    )
    return KeyValueFormatter().format(record)


@pytest.mark.parametrize(
    "value",
    [
        "/api/v1/x\nlevel=error msg=forged",  # `%0A` in a path
        "/api/v1/x\r\nlevel=error",
        "/x\x00y",
        "/x\x1b[31mred",
        "/x\u2028level=error",  # a line separator many viewers break on
        "/x\u0085next line",
        "/x\u202eevil",  # right-to-left override: reorders what a reader sees
    ],
)
def test_control_characters_in_a_value_stay_on_one_line(value: str) -> None:
    line = _line(path=value)
    assert len(line.splitlines()) == 1
    assert not any(char in line for char in "\x00\x1b\u2028\u0085\u202e")


def test_an_escaped_value_reads_back_unambiguously() -> None:
    line = _line(path='/a\\"b c\nd')
    assert line.endswith(r'path="/a\\\"b c\nd"')


def test_the_message_and_its_arguments_are_escaped_too() -> None:
    line = _line("message to %s not delivered: %s", 42, "Bad Request\nlevel=error")
    assert len(line.splitlines()) == 1
    assert r"Bad Request\nlevel=error" in line


def test_plain_values_stay_unquoted() -> None:
    assert _line(path="/api/v1/balance", status=200).endswith("path=/api/v1/balance status=200")
