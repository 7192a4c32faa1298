"""Prepared statements give exactly what SQLAlchemy gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, select

from pinwarden.store.prepared import Prepared, RawConnection
from pinwarden.store.schema import action_attempts
from pinwarden.store.store import Store

WHEN = datetime(2027, 3, 1, 15, 30, 12, 345678, tzinfo=UTC)
_INSERT = Prepared(
    action_attempts.insert().values(
        {c.key: bindparam(c.key) for c in action_attempts.c if c.key != "seq"}
    )
)
_SUCCEEDED = Prepared(
    select(action_attempts.c.action_attempt_id, action_attempts.c.result)
    .where(
        action_attempts.c.workspace_id == bindparam("workspace_id"),
        action_attempts.c.status == "success",
    )
    .order_by(action_attempts.c.seq)
)
_ONE = Prepared(
    select(action_attempts).where(action_attempts.c.action_attempt_id == bindparam("id"))
)


def _attempt(n: int, status: str = "success") -> dict[str, Any]:
    return {
        "action_attempt_id": f"00000000-0000-4000-8000-{n:012d}",
        "workspace_id": "w",
        "action_type": "CREATE_ACCESS_CODE",
        "status": status,
        "result": {"access_code": {"name": "Zoë", "n": n}},
        "error": None,
        "device_id": None,
        "access_code_id": None,
        "created_at": WHEN,
    }


def _workspace(store: Store) -> None:
    with store.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO workspaces (workspace_id, name, is_sandbox, policy, created_at) "
            "VALUES ('w', 'W', true, '{}', '2027-01-01 00:00:00.000000')"
        )


def test_a_prepared_insert_stores_what_sqlalchemy_would(store: Store) -> None:
    _workspace(store)
    with store.raw_begin() as raw:
        _INSERT.run(raw, _attempt(1)).close()
    with store.begin() as conn:
        conn.execute(action_attempts.insert().values(_attempt(2)))
    with store.read() as conn:
        rows = conn.execute(select(action_attempts).order_by(action_attempts.c.seq)).all()
    first, second = (row._asdict() for row in rows)
    assert first["created_at"] == WHEN == second["created_at"]
    assert first["result"] == {"access_code": {"name": "Zoë", "n": 1}}
    ignore = {"seq", "action_attempt_id", "result"}
    assert {k: v for k, v in first.items() if k not in ignore} == {
        k: v for k, v in second.items() if k not in ignore
    }


def test_values_written_into_a_statement_stay_and_a_record_is_decoded(store: Store) -> None:
    _workspace(store)
    with store.raw_begin() as raw:
        for n, status in ((1, "success"), (2, "error"), (3, "success")):
            _INSERT.run(raw, _attempt(n, status)).close()
    with store.raw_read() as raw:
        succeeded = _SUCCEEDED.all(raw, {"workspace_id": "w"})
        record = _ONE.record(raw, {"id": _attempt(3)["action_attempt_id"]})
        missing = _ONE.record(raw, {"id": "nope"})
    assert [r[0][-1] for r in succeeded] == ["1", "3"]
    with store.read() as conn:
        expected = conn.execute(
            select(action_attempts).where(
                action_attempts.c.action_attempt_id == _attempt(3)["action_attempt_id"]
            )
        ).one()
    assert record == tuple(expected) and record.result == expected.result
    assert missing is None


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    _workspace(store)
    with pytest.raises(RuntimeError), store.raw_begin() as raw:
        _INSERT.run(raw, _attempt(1)).close()
        raise RuntimeError("a check failed after the first write")
    with store.raw_read() as raw:
        assert _SUCCEEDED.all(raw, {"workspace_id": "w"}) == []


def test_an_in_list_is_refused_with_a_reason(store: Store) -> None:
    query = Prepared(
        select(action_attempts).where(
            action_attempts.c.action_attempt_id.in_(bindparam("ids", expanding=True))
        )
    )
    with store.read() as conn, pytest.raises(ValueError, match="IN lists"):
        query.all(RawConnection.of(conn), {"ids": ["a"]})
