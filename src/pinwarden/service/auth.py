"""Workspaces and API keys. Keys are shown once and stored as a SHA-256 hash.

A revoked key stops working at once in the process that revoked it (its entry leaves the key
cache there); other processes keep a key lookup for up to the cache's lifetime (`TtlCache`,
5 s), so it stops working there within 5 s.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from pinwarden.domain.ids import new_id
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import api_keys, console_sessions, devices, workspaces


@dataclass(frozen=True)
class NewApiKey:
    api_key_id: str
    workspace_id: str
    token: str


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key as an operator may see it: never the token, only its short prefix."""

    api_key_id: str
    workspace_id: str
    name: str
    short_token: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def prefix(self) -> str:
        """How the key starts, enough to recognise it: `seam_1a2b3c4d_…`."""
        return f"seam_{self.short_token}_…"

    def as_dict(self) -> dict[str, Any]:
        return {
            "api_key_id": self.api_key_id,
            "workspace_id": self.workspace_id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class WorkspaceInfo:
    workspace_id: str
    name: str
    created_at: datetime
    devices: int
    active_keys: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_workspace(deps: Deps, name: str) -> str:
    workspace_id = new_id()
    with deps.store.begin() as conn:
        conn.execute(
            workspaces.insert().values(
                workspace_id=workspace_id,
                name=name,
                is_sandbox=True,
                policy={},
                created_at=deps.clock.now(),
            )
        )
    return workspace_id


def require_workspace(conn: Connection, workspace_id: str) -> Row[Any]:
    row = conn.execute(select(workspaces).where(workspaces.c.workspace_id == workspace_id)).first()
    if row is None:
        raise ServiceError(
            "workspace_not_found",
            f"there is no workspace {workspace_id} (`pinwarden workspace list` shows them)",
            404,
        )
    return row


def list_workspaces(deps: Deps) -> list[WorkspaceInfo]:
    live_devices = (
        select(func.count())
        .where(devices.c.workspace_id == workspaces.c.workspace_id, devices.c.removed_at.is_(None))
        .scalar_subquery()
    )
    active_keys = (
        select(func.count())
        .where(
            api_keys.c.workspace_id == workspaces.c.workspace_id, api_keys.c.revoked_at.is_(None)
        )
        .scalar_subquery()
    )
    query = select(workspaces, live_devices.label("devices"), active_keys.label("keys"))
    with deps.store.read() as conn:
        rows = conn.execute(query.order_by(workspaces.c.created_at)).all()
    return [
        WorkspaceInfo(r.workspace_id, r.name, r.created_at, int(r.devices), int(r.keys))
        for r in rows
    ]


def create_api_key(deps: Deps, workspace_id: str, name: str = "default") -> NewApiKey:
    name = name.strip()
    if not name or len(name) > 200:
        raise ServiceError("invalid_input", "an API key's name must be 1 to 200 characters")
    # Hex never spells Seam's other token prefixes (seam_at, seam_cst, seam_pk).
    short = secrets.token_hex(4)
    token = f"seam_{short}_{secrets.token_urlsafe(24)}"
    api_key_id = new_id()
    with deps.store.begin() as conn:
        require_workspace(conn, workspace_id)
        conn.execute(
            api_keys.insert().values(
                api_key_id=api_key_id,
                workspace_id=workspace_id,
                name=name,
                token_hash=hash_token(token),
                short_token=short,
                created_at=deps.clock.now(),
            )
        )
    return NewApiKey(api_key_id, workspace_id, token)


def _info(row: Row[Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        row.api_key_id, row.workspace_id, row.name, row.short_token, row.created_at, row.revoked_at
    )


def list_api_keys(deps: Deps, workspace_id: str) -> list[ApiKeyInfo]:
    """Every key of the workspace, revoked ones included (they say when they were revoked)."""
    with deps.store.read() as conn:
        require_workspace(conn, workspace_id)
        rows = conn.execute(
            select(api_keys)
            .where(api_keys.c.workspace_id == workspace_id)
            .order_by(api_keys.c.created_at, api_keys.c.api_key_id)
        ).all()
    return [_info(r) for r in rows]


def revoke_api_key(deps: Deps, api_key_id: str, workspace_id: str | None = None) -> ApiKeyInfo:
    """Revoke a key (within `workspace_id` when given: the console may revoke only its own).

    Revoking twice is harmless and keeps the first time. Console sessions made with the key end
    with it (service/sessions.py checks the key on every request).
    """
    query = select(api_keys).where(api_keys.c.api_key_id == api_key_id)
    if workspace_id is not None:
        query = query.where(api_keys.c.workspace_id == workspace_id)
    with deps.store.begin() as conn:
        row = conn.execute(query).first()
        if row is None:
            raise ServiceError("api_key_not_found", f"there is no API key {api_key_id}", 404)
        if row.revoked_at is None:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.api_key_id == api_key_id)
                .values(revoked_at=deps.clock.now())
            )
        conn.execute(console_sessions.delete().where(console_sessions.c.api_key_id == api_key_id))
        row = conn.execute(select(api_keys).where(api_keys.c.api_key_id == api_key_id)).one()
    deps.key_cache.discard(row.token_hash)
    return _info(row)


_UNAUTHORIZED = "send `Authorization: Bearer <api key>` with a key from `pinwarden api-key create`"


def find_key(conn: Connection, token: str) -> Row[Any] | None:
    """The live (not revoked) key row for `token`, or None."""
    return conn.execute(
        select(api_keys).where(
            api_keys.c.token_hash == hash_token(token), api_keys.c.revoked_at.is_(None)
        )
    ).first()


def authenticate(deps: Deps, header: str | None) -> str:
    """Return the caller's workspace id, or raise 401."""
    if not header or not header.lower().startswith("bearer "):
        raise ServiceError("unauthorized", _UNAUTHORIZED, 401)
    token = header[7:].strip()
    if not token.startswith("seam_"):
        raise ServiceError("unauthorized", _UNAUTHORIZED, 401)
    digest = hash_token(token)
    workspace_id = deps.key_cache.get(digest)
    if workspace_id is not None:
        return workspace_id
    with deps.store.read() as conn:
        row = find_key(conn, token)
    if row is None:
        raise ServiceError("unauthorized", "the API key is not valid", 401)
    deps.key_cache.put(digest, str(row.workspace_id))
    return str(row.workspace_id)
