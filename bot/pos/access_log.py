"""One log line per request, and what that line may say beyond it: the till's store."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger("clientbase.pos")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RequestNote:
    """Filled in while the request runs: the store of its token, once known."""

    store: str = "-"


_note: ContextVar[RequestNote] = ContextVar("pos_request_note")


def current_note() -> RequestNote:
    """The note of the request being served (a throwaway one outside a request)."""
    return _note.get(RequestNote())


def logged_path(request: web.Request) -> str:
    """The path, never the query: a balance by phone carries the phone there."""
    return request.path[:200]


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Method, path, status, milliseconds, store."""
    started = time.perf_counter()
    note = RequestNote()
    token = _note.set(note)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 499  # the till hung up; a purchase committed before that stays committed
        raise
    finally:
        _note.reset(token)
        log.info(
            "pos request",
            extra={
                "method": request.method,
                "path": logged_path(request),
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "store": note.store,
            },
        )
