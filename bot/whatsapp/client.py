"""The pywa client, pointed at the Cloud API or (tests, sandbox) at a local fake."""

from __future__ import annotations

import logging

import httpx
from pywa_async import WhatsApp

from bot.settings import Settings


def build_client(settings: Settings) -> WhatsApp:
    # pywa logs request bodies and updates (numbers, names, texts) at DEBUG: personal data
    # never reaches the logs, whatever LOG_LEVEL says.
    logging.getLogger("pywa").setLevel(logging.WARNING)
    logging.getLogger("pywa_async").setLevel(logging.WARNING)
    assert settings.whatsapp_token is not None and settings.whatsapp_app_secret is not None
    assert settings.whatsapp_verify_token is not None
    client = WhatsApp(
        phone_id=settings.whatsapp_phone_id,
        token=settings.whatsapp_token.get_secret_value(),
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        verify_token=settings.whatsapp_verify_token.get_secret_value(),
        session=httpx.AsyncClient(timeout=15.0),
        api_version=settings.whatsapp_api_version,
        validate_updates=True,
    )
    # pywa fixes graph.facebook.com as the session's base URL; WHATSAPP_API_URL replaces the
    # host (the version path stays), so tests and the sandbox talk to a local fake.
    base = settings.whatsapp_api_url.rstrip("/")
    client.api._session.base_url = f"{base}/v{settings.whatsapp_api_version}"
    return client
