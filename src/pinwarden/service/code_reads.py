"""The access-code reads the API answers most (get, a page of a list), as prepared statements.

Each is one statement, so it reads one snapshot without a transaction, and returns per code
what the response needs (`Read`): the code's JSON as the database keeps it (`wire`), its lock's
errors, whether the lock's backup pool holds a ready code, and whether the code is a
time-bound managed one (the only kind a backup stands in for), whether it uses the backup pool;
then `seq`, for cursors.
service/wire.access_code puts them together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, false, select

from pinwarden.store.prepared import Prepared
from pinwarden.store.schema import access_codes, devices

_c = access_codes.c
_backup = access_codes.alias("backup")


def _pool_ready(device_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The lock's backup pool is on and holds a ready code (a CASE: the lookup runs only
    for a lock whose pool is on)."""
    ready = exists().where(
        _backup.c.device_id == device_id,
        _backup.c.is_managed.is_(True),
        _backup.c.is_backup.is_(True),
        _backup.c.backup_pulled_for.is_(None),
        _backup.c.status == "set",
    )
    return case((devices.c.backup_pool_enabled.is_(True), ready), else_=false())


TIME_BOUND = and_(_c.is_managed.is_(True), _c.ends_at.is_not(None))
ON_LOCK = devices.c.device_id == _c.device_id
# Read with the lock joined to each code: a code, or codes of many locks.
# Whether the code uses the backup pool (the pool's issues show only on those).
USES_POOL = _c.use_backup_access_code_pool.label("uses_pool")
COLUMNS = (
    _c.wire,
    devices.c.errors.label("lock_errors"),
    _pool_ready(devices.c.device_id).label("pool_ready"),
    TIME_BOUND.label("time_bound"),
    USES_POOL,
)
# A page of one lock reads the lock's errors and backups once, not joined to every code.
_ONE_LOCK = devices.c.device_id == bindparam("device_id")
_ONE_LOCK_COLUMNS = (
    _c.wire,
    select(devices.c.errors).where(_ONE_LOCK).scalar_subquery(),
    select(_pool_ready(devices.c.device_id)).where(_ONE_LOCK).scalar_subquery(),
    TIME_BOUND,
    USES_POOL,
)


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
        query = select(*_ONE_LOCK_COLUMNS, _c.seq)
    else:
        query = _codes()
    if after:
        conditions.append(_c.seq > bindparam("after"))
    return Prepared(query.where(*conditions).order_by(_c.seq).limit(bindparam("limit")))


# One page of a list filtered at most by lock: (managed, by lock, after a cursor) -> statement.
# Other filters (ids, search) take the general path (service/pagination.paginate).
PAGES = {
    (managed, by_device, after): _page(managed, by_device, after)
    for managed in (True, False)
    for by_device in (True, False)
    for after in (True, False)
}
