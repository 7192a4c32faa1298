"""Opening the store: engine, SQLite pragmas, and the migration gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class UnmigratedDatabase(RuntimeError):
    """The database schema is behind the code; `pinwarden db upgrade` fixes it."""


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'pinwarden.db'}"


# How a writer opens a transaction on SQLite: it takes the write lock at once, so concurrent
# writers queue on busy_timeout instead of failing when a read would have to become a write.
SQLITE_BEGIN = "BEGIN IMMEDIATE"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def open_engine(url: str, *, writer: bool = True, **kwargs: Any) -> Engine:
    """`writer=False` gives SQLite readers deferred transactions that never take the write lock."""
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off (see _sqlite_pragmas); writers take the lock
        # at BEGIN IMMEDIATE so they queue on busy_timeout instead of failing on lock upgrade.
        begin = SQLITE_BEGIN if writer else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if kwargs.pop("no_pool", False):
        kwargs.pop("pool_size"), kwargs.pop("max_overflow")
        kwargs["poolclass"] = NullPool
    return create_engine(url, pool_pre_ping=True, **kwargs)


# Pages in the WAL past which a commit checkpoints by itself; normally the server's
# store/checkpoint.py thread does it long before (SQLite's default is 1,000).
WAL_AUTOCHECKPOINT = 10_000
# Pages each connection keeps in memory (SQLite's default is 2 MB): a list of 500 codes reads
# about 250 table pages.
CACHE_KIB = 16_384


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a crash of the process (kill -9);
    # only an OS crash or power loss can take the last commits back.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.close()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_migrated(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        raise UnmigratedDatabase(
            f"the database is at schema revision {current or 'none'} but this pinwarden needs "
            f"{head}; run `pinwarden db upgrade` (with the same --data-dir or "
            "PINWARDEN_DATABASE_URL) and start again"
        )
