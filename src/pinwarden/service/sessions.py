"""Console sessions, kept on the server.

Signing in with an API key makes a session: the browser's cookie holds a random token, the
store only its hash, the key it was made with and when it expires. Every console request
looks the session up together with its key, so signing out (the row is deleted) ends it at
once, a replayed cookie finds nothing, and revoking the key ends every session made with it,
in every process (no cache here).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from pinwarden.service.auth import find_key, hash_token
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import api_keys, console_sessions

# How long a sign-in lasts; then the operator signs in again.
LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class Session:
    workspace_id: str
    api_key_id: str


def start(deps: Deps, api_key: str) -> tuple[str, Session]:
    """Sign in with `api_key`: returns the cookie's token and the session, or raises 401."""
    now = deps.clock.now()
    token = secrets.token_urlsafe(32)
    with deps.store.begin() as conn:
        key = find_key(conn, api_key) if api_key.startswith("seam_") else None
        if key is None:
            raise ServiceError("unauthorized", "That API key is not valid.", 401)
        conn.execute(console_sessions.delete().where(console_sessions.c.expires_at <= now))
        conn.execute(
            console_sessions.insert().values(
                session_hash=hash_token(token),
                api_key_id=key.api_key_id,
                workspace_id=key.workspace_id,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return token, Session(str(key.workspace_id), str(key.api_key_id))


def resolve(deps: Deps, token: str) -> Session | None:
    """The live session for a cookie's token: not ended, not expired, and its key not revoked."""
    query = (
        select(console_sessions.c.workspace_id, console_sessions.c.api_key_id)
        .join(api_keys, api_keys.c.api_key_id == console_sessions.c.api_key_id)
        .where(
            console_sessions.c.session_hash == hash_token(token),
            console_sessions.c.expires_at > deps.clock.now(),
            api_keys.c.revoked_at.is_(None),
        )
    )
    with deps.store.read() as conn:
        row = conn.execute(query).first()
    return Session(str(row.workspace_id), str(row.api_key_id)) if row else None


def end(deps: Deps, token: str) -> None:
    """Sign out: the token is worthless from now on, wherever it is replayed."""
    with deps.store.begin() as conn:
        conn.execute(
            delete(console_sessions).where(console_sessions.c.session_hash == hash_token(token))
        )
