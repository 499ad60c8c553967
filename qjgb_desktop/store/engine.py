"""Engine and session factories from a database URL (a SQLite file, or a PostgreSQL server in server mode).

`Sessions()` opens a session for reading. `Sessions.begin()` is a write: it takes the data folder's write lock
(store/locks.py), then opens the transaction with `BEGIN IMMEDIATE` on SQLite, so a write that depends on what it
reads (correct, delete, close a period, import) reads the latest committed state and no other writer can change it
before the commit; the loser of a race waits, then sees the winner's result and gets a clear message.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from qjgb_desktop.store.locks import lock_path_for, write_lock


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver's own implicit transactions are switched off: the "begin" event below issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the window read while a worker writes; FULL makes each commit durable on power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        from qjgb_desktop.paths import sqlite_path

        path = sqlite_path(url)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    from qjgb_desktop.store import credentials

    bare = credentials.clean(url)  # the engine's URL never holds the password; the driver gets it at each connect
    engine = create_engine(bare, pool_pre_ping=True)

    def password(_dialect, _record, _cargs, cparams) -> None:
        given = credentials.password_for(bare)
        if given is not None:
            cparams["password"] = given
    event.listen(engine, "do_connect", password)
    return engine


def engine_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for a server or in-memory SQLite). Taken from the URL's database
    part as such: a rendered URL percent-encodes it (C:/ becomes C%3A/, 张敏 becomes %E5…), which on Windows
    would turn the file into a relative path under whatever folder the program was started from."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return Path(database) if database and database != ":memory:" else None


def engine_lock_file(engine: Engine) -> Path | None:
    path = engine_file(engine)
    return lock_path_for(path) if path is not None else None


class Sessions:
    """Read sessions by calling it; write transactions with `begin()` (lock, then BEGIN IMMEDIATE)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock_file = engine_lock_file(engine)
        self._read = sessionmaker(engine, expire_on_commit=False)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
        self._write = sessionmaker(writer, expire_on_commit=False)

    def __call__(self) -> Session:
        return self._read()

    @property
    def server(self) -> bool:
        """A database server (PostgreSQL) rather than a local file."""
        return self.engine.dialect.name != "sqlite"

    @contextmanager
    def begin(self, purpose: str = "保存", dry_run: bool = False):
        """A write transaction; with dry_run everything is checked the same way and then rolled back."""
        with write_lock(self.lock_file, purpose=purpose), self._write() as session:
            session.begin()
            try:
                if self.server:
                    server_write_lock(session, purpose)
                yield session
            except BaseException:
                session.rollback()
                raise
            if dry_run:
                session.rollback()
            else:
                if self.server:  # delivered to every listening window, on every PC, at the commit
                    session.execute(text("SELECT pg_notify(:channel, :mark)"),
                                    {"channel": CHANGE_CHANNEL, "mark": process_mark()})
                session.commit()

    def write_lock(self, purpose: str = "保存", wait_s: float | None = None):
        """The write lock alone, for work that spans more than one transaction (restore, migration)."""
        return write_lock(self.lock_file, purpose=purpose, **({"wait_s": wait_s} if wait_s is not None else {}))


# On a server, every write transaction first takes one transaction-level advisory lock: the same discipline as
# the data folder's lock plus BEGIN IMMEDIATE on SQLite, for every PC at once. A write that depends on what it
# reads (correct, delete, close a period, import, a 督办 step) sees the latest committed state and no other writer
# can change it before the commit. Writes are short (milliseconds), so taking turns costs little; reads never wait.
WRITE_LOCK_KEY = 0x71_6A_67_62  # "qjgb"
CHANGE_CHANNEL = "qjgb_changed"
SERVER_LOCK_WAIT = "30s"


def process_mark() -> str:
    """What this process signs its change notifications with (so a window need not refresh twice for its own)."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def server_write_lock(session: Session, purpose: str = "保存") -> None:
    from sqlalchemy.exc import OperationalError

    from qjgb_desktop.store.locks import LockError

    try:  # one round trip: the wait's limit for this transaction, then the lock (the CTE's row comes first)
        session.execute(text("WITH wait AS (SELECT set_config('lock_timeout', :wait, true)) "
                             "SELECT pg_advisory_xact_lock(:key) FROM wait"),
                        {"wait": SERVER_LOCK_WAIT, "key": WRITE_LOCK_KEY})
    except OperationalError as exc:
        if "lock timeout" in str(exc).lower() or "55P03" in str(getattr(exc.orig, "sqlstate", "")):
            raise LockError(f"服务器上另一项保存操作仍在进行，{purpose}未能开始。请稍后再试。") from exc
        raise


def make_sessionmaker(engine: Engine) -> Sessions:
    return Sessions(engine)
