"""Shared fixtures: a real store (SQLite file or PostgreSQL), a virtual clock, a real HTTP server.

PostgreSQL is required: when it is not reachable the PostgreSQL tests fail, never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pinwarden.store.schema import metadata
from pinwarden.store.store import Store
from tests.support import Api, make_api

PG_ADMIN_URL = os.environ.get(
    "PINWARDEN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def _pg_name() -> str:
    """A database of this test process's own: xdist workers, and whole test sessions (a CI
    clone beside a work tree), run side by side."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"pinwarden_test_{worker}_{os.getpid()}"


def _pg_url(name: str) -> str:
    try:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(
            f"PostgreSQL is required for these tests and is not reachable at {PG_ADMIN_URL}: {exc}"
        )
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def pg_store() -> Iterator[Store]:
    name = _pg_name()
    store = Store(_pg_url(name), pool_size=5)
    store.upgrade()
    yield store
    store.dispose()
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _truncate(store: Store) -> None:
    with store.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
        s.upgrade()
        yield s
        s.dispose()
    else:
        s = request.getfixturevalue("pg_store")
        _truncate(s)
        yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    yield from make_api(store)


@pytest.fixture
def sqlite_api(sqlite_store: Store) -> Iterator[Api]:
    """The API on SQLite only, for engine scenarios that do not depend on the database."""
    yield from make_api(sqlite_store)
