"""The access-code reads the API answers most (get, a page of a list), as prepared statements.

Each is one statement, so it reads one snapshot without a transaction, and returns per code
what the response needs: the code's JSON as the database keeps it (`wire`), its lock's errors
and whether a backup code is ready for it (service/wire.access_code adds both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    select,
)

from pinwarden.store.prepared import Prepared
from pinwarden.store.schema import access_codes, devices

_c = access_codes.c
_backup = access_codes.alias("backup")

# A ready backup code on the lock, for a time-bound managed code on a lock whose pool is on
# (a CASE, so the lookup runs only then).
BACKUP_READY: ColumnElement[Any] = case(
    (
        and_(
            _c.is_managed.is_(True),
            _c.ends_at.is_not(None),
            devices.c.backup_pool_enabled.is_(True),
        ),
        exists().where(
            _backup.c.device_id == _c.device_id,
            _backup.c.is_managed.is_(True),
            _backup.c.is_backup.is_(True),
            _backup.c.backup_pulled_for.is_(None),
            _backup.c.status == "set",
        ),
    ),
    else_=false(),
)
# A lock's errors, and whether its backup pool is on and holds a ready code.
LOCK = Prepared(
    select(
        devices.c.errors,
        case(
            (
                devices.c.backup_pool_enabled.is_(True),
                exists().where(
                    _backup.c.device_id == devices.c.device_id,
                    _backup.c.is_managed.is_(True),
                    _backup.c.is_backup.is_(True),
                    _backup.c.backup_pulled_for.is_(None),
                    _backup.c.status == "set",
                ),
            ),
            else_=false(),
        ),
    ).where(devices.c.device_id == bindparam("device_id"))
)
# What every code read returns: (wire, the lock's errors, backup ready), then seq.
COLUMNS = (_c.wire, devices.c.errors.label("lock_errors"), BACKUP_READY.label("backup_ready"))
ON_LOCK = devices.c.device_id == _c.device_id


def _codes() -> Select[Any]:
    return select(*COLUMNS, _c.seq).select_from(access_codes.join(devices, ON_LOCK))


_IN_WORKSPACE = and_(
    _c.workspace_id == bindparam("workspace_id"), _c.is_managed == bindparam("managed")
)
BY_ID = Prepared(_codes().where(_IN_WORKSPACE, _c.access_code_id == bindparam("access_code_id")))
BY_PIN = Prepared(
    _codes()
    .where(_IN_WORKSPACE, _c.device_id == bindparam("device_id"), _c.code == bindparam("code"))
    .order_by(_c.seq.desc())
    .limit(1)
)


def _page(managed: bool, by_device: bool, after: bool) -> Prepared:
    conditions = [_c.workspace_id == bindparam("workspace_id"), _c.is_managed.is_(managed)]
    if managed:
        conditions.append(_c.is_backup.is_(False))
    if by_device:
        conditions.append(_c.device_id == bindparam("device_id"))
    if after:
        conditions.append(_c.seq > bindparam("after"))
    query = _codes().where(*conditions).order_by(_c.seq).limit(bindparam("limit"))
    return Prepared(query)


# One page of a list filtered at most by lock: (managed, by lock, after a cursor) -> statement.
# Other filters (ids, search) take the general path (service/pagination.paginate).
PAGES = {
    (managed, by_device, after): _page(managed, by_device, after)
    for managed in (True, False)
    for by_device in (True, False)
    for after in (True, False)
}
