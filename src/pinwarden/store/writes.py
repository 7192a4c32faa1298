"""Writes: the engine's statements for one transaction, sent as one executemany per shape.

A batch of locks produces thousands of tiny statements (a wake time per lock, a status per
code, an event per change). Executed one by one, SQLAlchemy's per-statement overhead costs more
than the database work, so `Writes` collects INSERTs, and UPDATEs and DELETEs of rows named by
a `b_id` parameter, and sends each distinct statement once with all its parameter sets.

It stands in for the connection (`execute(statement, params)`), and the result is what
executing in order would give:
- any other statement (a read, or a write without `b_id`) first sends everything buffered, so
  reads see earlier writes;
- a row changed again by a different statement (unless both are UPDATEs of disjoint columns),
  or a table that gets an INSERT after an UPDATE or DELETE (or the reverse), first sends
  everything buffered, so no write overtakes an earlier one that touches the same data.
`b_id` must name the rows a statement touches the same way for every statement on a table.
The caller must `flush()` before commit; as a context manager it does that on success.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, CursorResult, Delete, Executable, Insert, Update

_Group = tuple[int, frozenset[str]]
Params = dict[str, Any] | list[dict[str, Any]] | None


class Writes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._groups: dict[_Group, tuple[Executable, list[dict[str, Any]]]] = {}
        # row -> the groups that change it, with the columns each sets (None: deletes it)
        self._rows: dict[tuple[str, Any], dict[_Group, frozenset[str] | None]] = {}
        self._tables: dict[str, bool] = {}  # table -> buffered statements are INSERTs

    def execute(self, statement: Executable, params: Params = None) -> CursorResult[Any] | None:
        """Buffer `statement` if it can wait; otherwise send the buffer, then it."""
        rows = params if isinstance(params, list) else [params] if params else []
        if not (rows and isinstance(statement, Insert | Update | Delete)) or statement._returning:
            return self._now(statement, params)
        inserting = isinstance(statement, Insert)
        if not inserting and not all("b_id" in row for row in rows):
            return self._now(statement, params)
        table: str = statement.table.name  # type: ignore[attr-defined]
        if self._tables.setdefault(table, inserting) != inserting:
            self.flush()
            self._tables[table] = inserting
        inline = frozenset(getattr(c, "key", c) for c in getattr(statement, "_values", None) or ())
        for row in rows:
            group = (id(statement), frozenset(row))
            if not inserting:
                columns = None if isinstance(statement, Delete) else group[1] - {"b_id"} | inline
                if self._overtakes(group, (table, row["b_id"]), columns):
                    self.flush()
                    self._tables[table] = inserting
                self._rows.setdefault((table, row["b_id"]), {})[group] = columns
            self._groups.setdefault(group, (statement, []))[1].append(row)
        return None

    def _overtakes(
        self, group: _Group, row: tuple[str, Any], columns: frozenset[str] | None
    ) -> bool:
        """Would buffering this change of `row` in `group` let it pass an earlier one?

        Two UPDATEs of a row that set disjoint columns commute (an UPDATE here reads no column
        but those it sets); anything else must keep its order."""
        for other, other_columns in self._rows.get(row, {}).items():
            if other == group:
                continue
            if columns is None or other_columns is None or columns & other_columns:
                return True
        return False

    def _now(self, statement: Executable, params: Params) -> CursorResult[Any]:
        self.flush()
        return self.conn.execute(statement, params)

    def flush(self) -> None:
        """Send everything buffered, each statement once with all its parameter sets."""
        groups = list(self._groups.values())
        self._groups.clear()
        self._rows.clear()
        self._tables.clear()
        for statement, rows in groups:
            self.conn.execute(statement, rows)

    def __enter__(self) -> Writes:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.flush()
