"""Who is calling: the store behind the `Authorization: Bearer` token."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.pos.errors import ApiError
from bot.services import pos_tokens


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer` header; None without one, or for anything a
    token cannot be (tokens are printable ASCII), before it reaches a hash or a log."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not (token.isascii() and token.isprintable()):
        return None
    return token


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "a valid 'Authorization: Bearer' token")


async def store_of(session: AsyncSession, token: str | None) -> str | None:
    """The store of a live token; None for a missing, unknown or revoked one."""
    return await pos_tokens.store_for_token(session, token)
