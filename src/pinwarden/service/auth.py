"""Workspaces and API keys. Keys are shown once and stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import uuid4

from sqlalchemy import select

from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import api_keys, workspaces


@dataclass(frozen=True)
class NewApiKey:
    api_key_id: str
    workspace_id: str
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_workspace(deps: Deps, name: str) -> str:
    workspace_id = str(uuid4())
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


def create_api_key(deps: Deps, workspace_id: str, name: str = "default") -> NewApiKey:
    # Hex never spells Seam's other token prefixes (seam_at, seam_cst, seam_pk).
    short = secrets.token_hex(4)
    token = f"seam_{short}_{secrets.token_urlsafe(24)}"
    api_key_id = str(uuid4())
    with deps.store.begin() as conn:
        exists = conn.execute(
            select(workspaces.c.workspace_id).where(workspaces.c.workspace_id == workspace_id)
        ).first()
        if exists is None:
            raise ServiceError("workspace_not_found", f"no workspace {workspace_id}", 404)
        conn.execute(
            api_keys.insert().values(
                api_key_id=api_key_id,
                workspace_id=workspace_id,
                name=name,
                token_hash=_hash(token),
                short_token=short,
                created_at=deps.clock.now(),
            )
        )
    return NewApiKey(api_key_id, workspace_id, token)


_UNAUTHORIZED = "send `Authorization: Bearer <api key>` with a key from `pinwarden api-key create`"


def authenticate(deps: Deps, header: str | None) -> str:
    """Return the caller's workspace id, or raise 401."""
    if not header or not header.lower().startswith("bearer "):
        raise ServiceError("unauthorized", _UNAUTHORIZED, 401)
    token = header[7:].strip()
    if not token.startswith("seam_"):
        raise ServiceError("unauthorized", _UNAUTHORIZED, 401)
    digest = _hash(token)
    workspace_id = deps.key_cache.get(digest)
    if workspace_id is not None:
        return workspace_id
    with deps.store.read() as conn:
        row = conn.execute(
            select(api_keys.c.workspace_id).where(
                api_keys.c.token_hash == digest, api_keys.c.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        raise ServiceError("unauthorized", "the API key is not valid", 401)
    deps.key_cache.put(digest, str(row.workspace_id))
    return str(row.workspace_id)
