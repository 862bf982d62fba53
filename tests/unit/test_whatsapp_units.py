"""WhatsApp's small rules: formatting, wa.me links, settings all-or-nothing, the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from bot.services.sources import whatsapp_link
from bot.settings import SettingsError, load_settings
from bot.whatsapp.delivery import window_open
from bot.whatsapp.markup import one_line, whatsapp_text
from bot.whatsapp.webhook import incoming_messages


def test_html_becomes_whatsapp_formatting() -> None:
    assert whatsapp_text("<b>100</b> &amp; <i>x</i> <code>1</code>") == "*100* & _x_ `1`"
    link = '<a href="https://example.com/p?a=1&amp;b=2">Политика</a>'
    assert whatsapp_text(link) == "Политика: https://example.com/p?a=1&b=2"
    assert one_line("a\n\nb\n c ") == "a · b · c"


def test_wa_me_link_carries_the_line_and_the_code() -> None:
    url = whatsapp_link("+7 999 000-00-00", "Хочу в программу:", "s1_abcdefghijkl")
    assert url.startswith("https://wa.me/79990000000?text=")
    assert unquote(url.split("=", 1)[1]) == "Хочу в программу: s1_abcdefghijkl"


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"whatsapp_token": "t"}, "WHATSAPP_PHONE_ID"),
        (
            {
                "whatsapp_phone_id": "1",
                "whatsapp_token": "t",
                "whatsapp_app_secret": "s",
                "whatsapp_verify_token": "v",
            },
            "WHATSAPP_NUMBER",
        ),
    ],
)
def test_partial_whatsapp_settings_name_the_missing_one(given: dict, missing: str) -> None:
    with pytest.raises(SettingsError, match=f"^{missing}: "):
        load_settings(_env_file=None, **given)


def test_whatsapp_is_off_by_default() -> None:
    assert load_settings(_env_file=None).whatsapp_enabled is False


def test_the_24_hour_window() -> None:
    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    assert window_open(now - timedelta(hours=23, minutes=59), now)
    assert not window_open(now - timedelta(hours=24), now)
    assert not window_open(None, now)


def test_webhook_messages_are_read_from_text_buttons_and_lists() -> None:
    def update(message: dict) -> dict:
        value = {
            "contacts": [{"wa_id": "79160000001", "profile": {"name": "A"}}],
            "messages": [message],
        }
        return {"entry": [{"changes": [{"value": value}]}]}

    text = incoming_messages(
        update({"from": "79160000001", "id": "m1", "type": "text", "text": {"body": "hi"}})
    )
    assert [(i, m.text, m.data, m.profile_name) for i, m in text] == [("m1", "hi", None, "A")]
    button = {"type": "button_reply", "button_reply": {"id": "consent:yes", "title": "Yes"}}
    picked = incoming_messages(
        update({"from": "79160000001", "id": "m2", "type": "interactive", "interactive": button})
    )
    assert picked[0][1].data == "consent:yes"
    statuses = {"entry": [{"changes": [{"value": {"statuses": [{"id": "x"}]}}]}]}
    assert incoming_messages(statuses) == []
