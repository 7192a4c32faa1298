"""Cursor pagination as Seam does it: opaque cursors tied to the query that made them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Row, Table, select, tuple_

from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid

_MAX_LIMIT = 55_000


@dataclass(frozen=True)
class Page:
    items: list[Any]  # dicts, or JSON fragments ready to embed (service/wire.access_code)
    pagination: dict[str, Any]


def empty_page() -> Page:
    return Page([], {"has_next_page": False, "next_page_cursor": None, "next_page_url": None})


# Filters on things pinwarden does not have (customers, spaces, access grants and methods,
# client sessions, access systems, Connect Webviews). Nothing in pinwarden belongs to one, so
# nothing matches; ignoring the filter would answer with everything instead.
FOREIGN_FILTERS = (
    "customer_key",
    "user_identifier_key",
    "space_id",
    "space_ids",
    "access_grant_id",
    "access_grant_ids",
    "access_grant_key",
    "access_method_id",
    "access_method_ids",
    "user_identity_id",
    "connect_webview_id",
    "acs_system_id",
    "acs_system_ids",
    "acs_user_id",
    "acs_credential_id",
    "acs_entrance_id",
    "acs_access_group_id",
    "acs_encoder_id",
)


def asks_for_foreign(p: dict[str, Any]) -> bool:
    """Whether `p` filters on something pinwarden does not have (null or empty is no filter)."""
    return any(p.get(name) not in (None, "", []) for name in FOREIGN_FILTERS)


def _query_hash(table: Table, p: dict[str, Any]) -> str:
    """Ties a cursor to the list and the parameters that made it."""
    rest = {k: v for k, v in p.items() if k != "page_cursor"}
    query = orjson.dumps([table.name, rest], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(query).hexdigest()[:16]


def _order_columns(table: Table) -> list[Any]:
    if "seq" in table.c:
        return [table.c.seq]
    return [table.c.created_at, table.primary_key.columns.values()[0]]


def _encode(query_hash: str, row: Row[Any], columns: list[Any]) -> str:
    return encode_cursor(query_hash, [getattr(row, c.name) for c in columns])


def encode_cursor(query_hash: str, values: list[Any]) -> str:
    """The cursor for the page after the row whose ordering columns hold `values`."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(orjson.dumps([query_hash, values])).decode()


def _cursor_value(value: Any, column: Any) -> Any:
    """One saved position, checked: a cursor is client input, however opaque it looks."""
    if column.name == "created_at":
        return datetime.fromisoformat(value)
    expected = int if column.name == "seq" else str
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ValueError(f"bad {column.name} in cursor")
    return value


def _decode(cursor: str, query_hash: str, columns: list[Any]) -> list[Any]:
    try:
        saved_hash, values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if len(values) != len(columns):
            raise ValueError("wrong number of values in cursor")
        after = [_cursor_value(v, c) for v, c in zip(values, columns, strict=True)]
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid("page_cursor", "is not a cursor this server issued") from None
    if saved_hash != query_hash:
        raise ServiceError(
            "mismatched_page_parameters",
            "When using next_page_cursor, the request must send parameters identical to the "
            "initial request.",
        )
    return after


def page_request(
    table: Table, p: dict[str, Any], default_limit: int
) -> tuple[int, str, list[Any] | None]:
    """What a list request asks for: the page size, the hash that ties its cursors to its
    parameters, and the ordering values to start after (None: from the start)."""
    limit = min(int(p.get("limit", default_limit)), _MAX_LIMIT)
    if limit < 1:
        raise invalid("limit", "must be at least 1")
    query_hash = _query_hash(table, p)
    cursor = p.get("page_cursor")
    after = _decode(cursor, query_hash, _order_columns(table)) if cursor else None
    return limit, query_hash, after


def paginate(
    deps: Deps,
    table: Table,
    condition: ColumnElement[bool],
    p: dict[str, Any],
    render: Callable[[Connection, list[Row[Any]]], list[dict[str, Any]]],
    *,
    default_limit: int,
    columns: Sequence[ColumnElement[Any]] | None = None,
) -> Page:
    """One page of `table` rows matching `condition`; `columns` narrows what is fetched (the
    ordering columns are always included)."""
    limit, query_hash, after = page_request(table, p, default_limit)
    order = _order_columns(table)
    query = select(*columns, *order) if columns is not None else select(table)
    query = query.where(condition)
    if after is not None:
        key = order[0] if len(order) == 1 else tuple_(*order)
        query = query.where(key > (after[0] if len(order) == 1 else tuple_(*after)))
    query = query.order_by(*order).limit(limit + 1)
    with deps.store.read() as conn:
        rows = conn.execute(query).all()
        has_next = len(rows) > limit
        rows = rows[:limit]
        items = render(conn, rows)
    cursor = _encode(query_hash, rows[-1], order) if has_next else None
    return Page(
        items,
        {"has_next_page": has_next, "next_page_cursor": cursor, "next_page_url": None},
    )


def each(
    to_wire: Callable[[Row[Any]], dict[str, Any]],
) -> Callable[[Connection, list[Row[Any]]], list[dict[str, Any]]]:
    """Render rows one by one when no batch lookups are needed."""
    return lambda _conn, rows: [to_wire(r) for r in rows]


def every_item(list_page: Callable[[dict[str, Any]], Page], p: dict[str, Any]) -> list[Any]:
    """Every item of a paginated listing, page after page (the console and the CLI show all)."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = list_page({**p, "page_cursor": cursor} if cursor else p)
        items += page.items
        cursor = page.pagination.get("next_page_cursor")
        if not cursor:
            return items
