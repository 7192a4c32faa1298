"""The engine's write buffer gives exactly what executing each statement in order gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    select,
)

from pinwarden.store.writes import Writes

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("a", Integer, nullable=False),
    Column("b", Integer, nullable=False),
)
log = Table("log", metadata, Column("seq", Integer, primary_key=True), Column("v", Integer))

_ONE = rows.update().where(rows.c.id == bindparam("b_id"))
_BUMP = _ONE.values(a=rows.c.a + 1)
_DELETE = rows.delete().where(rows.c.id == bindparam("b_id"))
_READ = select(rows).order_by(rows.c.id)
_LOG = log.insert()

ids = st.integers(1, 4)
values = st.integers(0, 9)
ops = st.one_of(
    st.tuples(st.just("set_a"), ids, values),
    st.tuples(st.just("set_b"), ids, values),
    st.tuples(st.just("set_ab"), ids, values),
    st.tuples(st.just("bump"), ids, values),
    st.tuples(st.just("insert"), ids, values),
    st.tuples(st.just("delete"), ids, values),
    st.tuples(st.just("log"), ids, values),
    st.tuples(st.just("read"), ids, values),
)


def _apply(sink: Connection | Writes, plan: list[tuple[str, int, int]]) -> list[Any]:
    reads: list[Any] = []
    for n, (op, row, value) in enumerate(plan):
        if op == "set_a":
            sink.execute(_ONE, {"b_id": row, "a": value})
        elif op == "set_b":
            sink.execute(_ONE, {"b_id": row, "b": value})
        elif op == "set_ab":
            sink.execute(_ONE, {"b_id": row, "a": value, "b": value + 1})
        elif op == "bump":
            sink.execute(_BUMP, {"b_id": row})
        elif op == "insert":  # a fresh id: duplicates would fail either way
            sink.execute(rows.insert(), {"id": 100 + n, "a": value, "b": row})
        elif op == "delete":
            sink.execute(_DELETE, {"b_id": row})
        elif op == "log":
            sink.execute(_LOG, [{"seq": 2 * n, "v": value}, {"seq": 2 * n + 1, "v": row}])
        else:
            result = sink.execute(_READ)
            assert result is not None
            reads.append([tuple(r) for r in result])
    return reads


def _run(plan: list[tuple[str, int, int]], buffered: bool) -> tuple[Any, ...]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(rows.insert(), [{"id": i, "a": i, "b": i} for i in range(1, 5)])
    with engine.begin() as conn:
        if buffered:
            with Writes(conn) as writes:
                reads = _apply(writes, plan)
        else:
            reads = _apply(conn, plan)
    with engine.connect() as conn:
        final = [tuple(r) for r in conn.execute(_READ)]
        logged = [tuple(r) for r in conn.execute(select(log).order_by(log.c.seq))]
    engine.dispose()
    return reads, final, logged


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=30))
def test_buffered_writes_end_as_if_executed_in_order(plan: list[tuple[str, int, int]]) -> None:
    assert _run(plan, buffered=True) == _run(plan, buffered=False)


def test_many_updates_of_one_shape_go_out_as_one_call() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    calls: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: calls.append(a[2].split()[0]))
    with engine.begin() as conn:
        conn.execute(rows.insert(), [{"id": i, "a": 0, "b": 0} for i in range(1, 51)])
        calls.clear()
        with Writes(conn) as writes:
            for i in range(1, 51):
                writes.execute(_ONE, {"b_id": i, "a": i})
                writes.execute(_ONE, {"b_id": i, "b": -i})  # other columns: no flush needed
                writes.execute(_LOG, {"seq": i, "v": i})
    assert calls == ["UPDATE", "UPDATE", "INSERT"]
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(_READ)][:2] == [(1, 1, -1), (2, 2, -2)]
