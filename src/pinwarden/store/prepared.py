"""Statements for the API's hot paths: written in SQLAlchemy Core, compiled once, run on the
DB-API cursor.

A `get` by id is a few microseconds of SQLite work, but a SQLAlchemy `Connection` costs about
60 µs to open and close and each `execute` about 30 µs (cache key, execution context, `Row`
objects): ten times the database's own work. `Prepared` compiles its statement once per dialect
and binds parameters exactly as SQLAlchemy would (the same bind processors: dates, JSON,
booleans), so the SQL stays Core and portable while a call costs about what the driver costs.

`all` and `first` give plain tuples of the driver's values (no result processing), for callers
that read columns which need none (text, numbers) or decode the few they use; `record` gives a
row as SQLAlchemy would.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Insert
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class _Plan:
    sql: str
    binds: tuple[_Bind, ...]  # in the order the driver wants them
    positional: bool
    # For `record`: the result columns' names and SQLAlchemy's result processors.
    record: type[tuple[Any, ...]]
    results: tuple[Callable[[Any], Any] | None, ...]


@dataclass(frozen=True)
class _Bind:
    name: str  # in the SQL
    key: str  # in the caller's parameters
    fixed: bool  # the statement sets the value (`status == "set"`), not the caller
    value: Any  # that value
    default: Callable[[], Any] | None  # an INSERT's column default, when the caller omits it
    process: Callable[[Any], Any] | None  # SQLAlchemy's bind processor for its type


class Prepared:
    """One Core statement; `run` executes it on a DB-API connection of the given dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _compile(self.statement, dialect)
        return plan

    def run(self, raw: RawConnection, params: Mapping[str, Any] | None = None) -> Any:
        """Execute; returns the DB-API cursor."""
        plan = self._plan(raw.dialect)
        given = params or {}
        values = [_value(bind, given) for bind in plan.binds]
        cursor = raw.dbapi.cursor()
        if plan.positional:
            cursor.execute(plan.sql, values)
        else:
            cursor.execute(plan.sql, {b.name: v for b, v in zip(plan.binds, values, strict=True)})
        return cursor

    def all(self, raw: RawConnection, params: Mapping[str, Any] | None = None) -> list[Any]:
        cursor = self.run(raw, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, raw: RawConnection, params: Mapping[str, Any] | None = None) -> Any:
        cursor = self.run(raw, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def record(self, raw: RawConnection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row as SQLAlchemy would give it: values decoded by their column types,
        columns by name (a named tuple), or None."""
        row = self.first(raw, params)
        if row is None:
            return None
        plan = self._plan(raw.dialect)
        return plan.record(
            *(v if p is None else p(v) for v, p in zip(row, plan.results, strict=True))
        )


def _value(bind: _Bind, given: Mapping[str, Any]) -> Any:
    if bind.fixed:
        value = bind.value
    elif bind.default is not None and bind.key not in given:
        value = bind.default()
    else:
        value = given[bind.key]
    return value if bind.process is None else bind.process(value)


def _default(column: Any) -> Callable[[], Any]:
    """A column's Python-side default (`default=False`, `default=list`), as SQLAlchemy applies
    it to an INSERT that leaves the column out."""
    default = column.default
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps it to take a context
    raise ValueError(f"{column}: only scalar and callable defaults are supported")


def _compile(statement: Executable, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = compiled._bind_processors  # what SQLAlchemy's own execution applies
    names: list[str] = (
        list(compiled.positiontup) if compiled.positional else list(compiled.bind_names.values())
    )
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    # An INSERT's columns with a default take it when the caller leaves them out, whether the
    # statement names them (`bindparam`) or not (SQLAlchemy then prefetches the default).
    table = getattr(statement, "table", None) if isinstance(statement, Insert) else None
    defaults = {c.key: _default(c) for c in getattr(compiled, "insert_prefetch", ())}
    if table is not None:
        defaults.update({c.key: _default(c) for c in table.c if c.default is not None})
    binds = []
    for name in names:
        bind = by_name[name]
        if bind.expanding:
            raise ValueError(f"{name}: IN lists are not supported by Prepared")
        default = defaults.get(bind.key)
        # A value written into the statement (`status == "set"`) is fixed; `bindparam("x")`
        # without a value, or a column with a default, is the caller's.
        fixed = default is None and not bind.required and bind.callable is None
        process = processors.get(name)
        binds.append(_Bind(name, bind.key, fixed, bind.value, default, process))  # type: ignore[arg-type]
    columns = compiled._result_columns
    record = namedtuple("Record", [c.keyname for c in columns])  # type: ignore[misc]
    results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    return _Plan(compiled.string, tuple(binds), bool(compiled.positional), record, results)


@dataclass(frozen=True)
class RawConnection:
    """A DB-API connection and the dialect that compiles for it."""

    dbapi: Any
    dialect: Dialect

    @classmethod
    def of(cls, conn: Connection | RawConnection) -> RawConnection:
        """The driver connection under a SQLAlchemy connection, in its transaction."""
        if isinstance(conn, RawConnection):
            return conn
        return cls(conn.connection.driver_connection, conn.dialect)


# What the hot paths' statements run on: a SQLAlchemy connection or the driver's own.
AnyConnection = Connection | RawConnection


@contextmanager
def raw_begin(engine: Engine, begin: str | None) -> Iterator[RawConnection]:
    """A transaction on a pooled driver connection: committed if the block ends normally,
    rolled back if it raises. `begin`: the statement that opens it (SQLite's BEGIN IMMEDIATE;
    None where the driver opens one by itself, as psycopg does)."""
    fairy = engine.raw_connection()
    try:
        dbapi = fairy.driver_connection
        if begin is not None:
            dbapi.execute(begin)
        try:
            yield RawConnection(dbapi, engine.dialect)
        except BaseException:
            dbapi.rollback()
            raise
        dbapi.commit()
    finally:
        fairy.close()


@contextmanager
def raw_read(engine: Engine) -> Iterator[RawConnection]:
    """A pooled connection for reads of one statement each (each is its own snapshot);
    given back to the pool (and rolled back) afterwards."""
    fairy = engine.raw_connection()
    try:
        yield RawConnection(fairy.driver_connection, engine.dialect)
    finally:
        fairy.close()
