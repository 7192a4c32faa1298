"""An access code as Seam's JSON, rendered by the database whenever its row is written.

This is the one renderer of Seam's `access_code` object (and of `unmanaged_access_code`, the
same object with fewer fields): one SQL expression over the row. The database keeps its text
in the row's `wire` column, in the same statement as every write, whoever writes (the API, the
engine, a migration), so it cannot lag behind the row; a read is one text column that the
response embeds as it is.

- SQLite: `wire` is a stored generated column.
- PostgreSQL only lets immutable functions compute a generated column (its JSON and date
  formatting functions are merely stable), so there a trigger sets `wire` on every INSERT and
  UPDATE, from the same expression.

Two facts are not the row's own and are added when a code is read (service/wire.py): the
lock's errors, copied onto each of its codes, and whether a backup code is ready for it
(`is_backup_access_code_available`, rendered `false` here).

Changing the expression changes what existing rows hold only through a migration that renders
them again; tests/api/test_access_code_wire.py holds the migrated database to this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text

from pinwarden.store.schema import access_codes

Column = Callable[[str], ColumnElement[Any]]  # a row's column by name


def _from_table(name: str) -> ColumnElement[Any]:
    return access_codes.c[name]


class _Sql:
    """The few places where SQLite and PostgreSQL spell JSON differently."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def obj(self, pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        args = [x for key, value in pairs for x in (literal(key, Text), value)]
        if self.pg:
            return cast(func.json_build_object(*args), Text)
        return func.json_object(*args)

    def json(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """Stored JSON text, embedded as JSON (PostgreSQL's JSON columns already are)."""
        return value if self.pg else func.json(value)

    def const(self, value: bool) -> ColumnElement[Any]:
        if self.pg:
            return true() if value else literal(False)
        return func.json("true" if value else "false")

    def flag(self, condition: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.pg:
            return case((condition, true()), else_=literal(False))
        return func.json(case((condition, "true"), else_="false"))

    def time(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """`2027-01-01T15:00:00.000Z`: UTC, milliseconds cut (not rounded), as `wire.iso`."""
        if self.pg:
            utc = value.op("AT TIME ZONE")(literal_column("'UTC'"))
            return func.to_char(utc, literal_column('\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\''))
        # SQLite holds `2027-01-01 15:00:00.000000` (store/schema.py UTCDateTime).
        day, clock = func.substr(value, 1, 10, type_=Text), func.substr(value, 12, 12, type_=Text)
        return day + "T" + clock + "Z"


def expression(dialect: str, c: Column = _from_table) -> ColumnElement[Any]:
    """The `wire` JSON of the row whose columns `c` names, in `dialect`'s SQL."""
    sql = _Sql(dialect)
    common = [
        ("access_code_id", c("access_code_id")),
        ("workspace_id", c("workspace_id")),
        ("device_id", c("device_id")),
        ("name", c("name")),
        ("code", c("code")),
        (
            "type",
            case(
                (and_(c("starts_at").is_(None), c("ends_at").is_(None)), "ongoing"),
                else_="time_bound",
            ),
        ),
        ("created_at", sql.time(c("created_at"))),
        ("starts_at", sql.time(c("starts_at"))),
        ("ends_at", sql.time(c("ends_at"))),
        ("errors", sql.json(c("errors"))),
        ("warnings", sql.json(c("warnings"))),
    ]
    managed = [
        *common,
        ("is_managed", sql.const(True)),
        ("status", c("status")),
        ("common_code_key", c("common_code_key")),
        ("is_backup_access_code_available", sql.const(False)),
        ("is_backup", sql.flag(c("is_backup").is_(True))),
        ("pulled_backup_access_code_id", c("pulled_backup_access_code_id")),
        ("is_external_modification_allowed", sql.flag(c("allow_external_modification").is_(True))),
        ("is_one_time_use", sql.flag(c("is_one_time_use").is_(True))),
        ("is_offline_access_code", sql.flag(c("is_offline_access_code").is_(True))),
        ("is_scheduled_on_device", sql.flag(c("is_scheduled_on_device").is_(True))),
        ("is_waiting_for_code_assignment", sql.flag(c("code").is_(None))),
        ("pending_mutations", sql.json(c("pending_mutations"))),
    ]
    unmanaged = [
        *common,
        ("is_managed", sql.const(False)),
        ("status", case((c("status") == "set", "set"), else_="unset")),
    ]
    return case((c("is_managed").is_(True), sql.obj(managed)), else_=sql.obj(unmanaged))


_DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
}


def sql_text(dialect: str, c: Column = _from_table) -> str:
    """The expression as SQL text, values inlined (for DDL)."""
    compiled = expression(dialect, c).compile(
        dialect=_DIALECTS[dialect], compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def sqlite_column_sql() -> str:
    """SQLite: the generated column's expression (column names bare, as DDL wants them)."""
    return sql_text("sqlite", literal_column)


def render_values(conn: Connection, values: dict[str, Any]) -> str:
    """The same JSON for a code that is not stored (`/access_codes/generate_code`): the
    expression over `values`, column by column (absent columns are NULL or their default)."""

    def value(name: str) -> ColumnElement[Any]:
        column = access_codes.c[name]
        given = values.get(name, _default(column))
        return literal(given, column.type)

    rendered: str = conn.execute(select(expression(conn.dialect.name, value))).scalar_one()
    return rendered


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


# PostgreSQL: the trigger that keeps `wire` current (the same expression over NEW).
PG_FUNCTION = "pinwarden_access_code_wire"
PG_TRIGGER = "access_code_wire"


def pg_trigger_ddl() -> list[str]:
    body = sql_text("postgresql", lambda name: literal_column(f"NEW.{name}"))
    return [
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  NEW.wire := {body};\n  RETURN NEW;\nEND\n$$",
        f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON access_codes",
        f"CREATE TRIGGER {PG_TRIGGER} BEFORE INSERT OR UPDATE ON access_codes "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ]
