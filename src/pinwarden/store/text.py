"""Searching text in SQL as plain text: `%` and `_` are not wildcards, and a long search
string is no error (SQLite's LIKE refuses patterns over 50,000 bytes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _position(FunctionElement[int]):
    """Where `needle` starts in `haystack` (1-based; 0: not there)."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _instr(element: _position, compiler: Any, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)})"


@compiles(_position, "postgresql")
def _strpos(element: _position, compiler: Any, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"strpos({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)})"


def holds_text(
    column: ColumnElement[Any], term: str, *, any_case: bool = True
) -> ColumnElement[bool]:
    """`column` contains `term`, literally; a null column contains nothing."""
    haystack: ColumnElement[Any] = func.lower(column) if any_case else column
    needle: ColumnElement[Any] = literal(term.lower() if any_case else term)
    return func.coalesce(_position(haystack, needle), 0) > 0


__all__ = ["holds_text"]
