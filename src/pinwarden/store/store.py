"""The store: one writer path and one reader path over SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from pinwarden.store import db
from pinwarden.store.prepared import RawConnection, raw_begin, raw_read


class Store:
    """Owns the engines. Writes run in `begin()` transactions; reads in `read()`.

    On SQLite, writers take the database lock at BEGIN (BEGIN IMMEDIATE) so concurrent writers
    queue instead of failing; readers use a second engine with plain deferred transactions, so
    WAL lets them run beside a writer.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: Engine = db.open_engine(url, **engine_kwargs)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.read_engine = db.open_engine(url, writer=False, **engine_kwargs)
        else:
            self.read_engine = self.engine
        self._commit_hooks: list[Callable[[], None]] = []

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn
        self._committed()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.read_engine.connect() as conn:
            yield conn

    @contextmanager
    def raw_begin(self) -> Iterator[RawConnection]:
        """A write transaction on a driver connection (store/prepared.py), as `begin()` opens
        it (on SQLite with BEGIN IMMEDIATE) but without SQLAlchemy's per-transaction cost."""
        with raw_begin(self.engine, db.SQLITE_BEGIN if self.is_sqlite else None) as raw:
            yield raw
        self._committed()

    @contextmanager
    def raw_read(self) -> Iterator[RawConnection]:
        """A driver connection for reads of one statement each (store/prepared.py)."""
        with raw_read(self.read_engine) as raw:
            yield raw

    def watch_commits(self, hook: Callable[[], None]) -> None:
        """Call `hook` after every write transaction of this process commits (`begin()`,
        `raw_begin()`), in the thread that committed; not after one that rolled back."""
        self._commit_hooks.append(hook)

    def unwatch_commits(self, hook: Callable[[], None]) -> None:
        self._commit_hooks.remove(hook)

    def _committed(self) -> None:
        for hook in self._commit_hooks:
            hook()

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    def require_migrated(self) -> None:
        db.require_migrated(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
