"""The database connection: an engine bound once per process, sessions per request or per job."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.sqlite_writers import WriterLockedConnection


class DatabaseUnavailable(Exception):
    """The database cannot be reached: the caller answers 503 so WeChat retries later."""


class Database:
    """Unbound until `bind(url)`; created at import time without touching any server."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker | None = None

    def bind(self, url: str) -> Database:
        is_sqlite = url.startswith("sqlite")
        if is_sqlite:   # a local file: nothing to ping, and connections are cheap
            options = {"connect_args": {"timeout": 15, "check_same_thread": False, "factory": WriterLockedConnection}}
        else:
            options = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10,
                       "connect_args": {"connect_timeout": 5}}
        self.engine = create_engine(url, **options)
        if is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._factory, "after_commit", _run_after_commit)
        event.listen(self._factory, "after_rollback", _drop_after_commit)
        return self

    def new_session(self) -> Session:
        if self._factory is None:
            raise RuntimeError("Database.bind() was not called")
        return self._factory()

    @contextmanager
    def held_session(self):
        """A session that keeps one connection through several commits (an inbound message commits twice,
        and each checkout from the pool costs PostgreSQL a ping); rolled back on an error, closed at the end."""
        if self._factory is None:
            raise RuntimeError("Database.bind() was not called")
        with self.engine.connect() as connection:
            session = self._factory(bind=connection)
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def session(self):
        """A unit of work: commit on success, roll back on any error."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def after_commit(session: Session, action) -> None:
    """Run `action()` once this session's transaction commits (never if it rolls back).

    Jobs are enqueued this way: a worker must never look for a row that is not committed yet,
    nor wait on a write lock the enqueuing transaction still holds.
    """
    session.info.setdefault("after_commit", []).append(action)


def _run_after_commit(session: Session) -> None:
    actions = session.info.pop("after_commit", [])
    for action in actions:
        action()


def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets gunicorn workers read while one writes; busy_timeout waits instead of failing;
    # synchronous=NORMAL in WAL mode survives any process crash and costs no fsync per commit.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def is_unavailable(exc: BaseException) -> bool:
    """True for errors meaning 'the database is not reachable' rather than a bug."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
