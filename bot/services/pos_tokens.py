"""Keys of the point-of-sale API: one random token per till or store, only its hash kept.

A token is shown once, when it is issued; the database keeps its SHA-256, so a leaked backup
does not let anyone record purchases. The token's store is the store of every purchase and
refund made with it (receipt ids are unique per store).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import pos_tokens as repo

TOKEN_PREFIX = "cbp_"
STORE_MAX_LENGTH = 100  # PosToken.store and Purchase.store
_TOKEN_MAX_LENGTH = 200  # far above a real token: longer input is not worth hashing

__all__ = ["TOKEN_PREFIX", "issue_token", "revoke_store_tokens", "store_for_token"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _store_name(store: str) -> str:
    name = store.strip()
    if not name or len(name) > STORE_MAX_LENGTH:
        raise ValueError(f"a store name is 1-{STORE_MAX_LENGTH} characters")
    return name


async def issue_token(session: AsyncSession, store: str, now: datetime | None = None) -> str:
    """A new token for `store` (earlier ones stay valid until revoked); commits.

    The returned value is the only copy: it cannot be read back from the database.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    repo.add(session, _store_name(store), _digest(token), now or utcnow())
    await session.commit()
    return token


async def store_for_token(session: AsyncSession, token: str | None) -> str | None:
    """The store a live token belongs to; None for an unknown, malformed or revoked token.

    The lookup is by hash, so the database compares digests, never the secret itself; the
    final comparison is constant-time as well.
    """
    if not token or len(token) > _TOKEN_MAX_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(token)
    if (row := await repo.live(session, digest)) is None:
        return None
    store, stored = row
    return store if hmac.compare_digest(stored, digest) else None


async def revoke_store_tokens(
    session: AsyncSession, store: str, now: datetime | None = None
) -> int:
    """Revoke every live token of `store`; returns how many; commits."""
    revoked = await repo.revoke_store(session, _store_name(store), now or utcnow())
    await session.commit()
    return revoked
