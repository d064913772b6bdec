"""SQLite writers take turns on a file lock that wakes them promptly, not in SQLite's busy handler.

SQLite lets one writer in at a time. The others wait in its busy handler, which sleeps 1, 2, 5, 10, 15,
20, 25 … 100 ms between tries, so a writer often sleeps long after the lock was freed: two gunicorn
workers answering callbacks left ~40 % of both cores idle. Here a connection takes an flock (one lock
file beside the database, shared by every process and thread) just before the first write of a
transaction and drops it when the transaction ends; a waiter tries again every 0.05–1 ms. Reads never take
it (WAL lets them run beside the writer). After `WAIT_S` a writer goes ahead without the lock and
SQLite's own waiting applies, as before — so a nested second writer in one thread (which SQLite would
refuse after its busy timeout anyway) cannot hang for ever.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time

WAIT_S = 15.0
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.00005, 0.001
_READS = ("SELECT", "PRAGMA")


def lock_path(database: str) -> str | None:
    """The lock file of a database file; None for in-memory and URI databases (nothing to share)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.writers.lock"


class WriterLockedConnection(sqlite3.Connection):
    """sqlite3.connect(..., factory=WriterLockedConnection)."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = lock_path(os.fspath(database))
        self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        self._holding = False

    def cursor(self, factory=None):
        return super().cursor(factory or WriterLockedCursor)

    def take_writer_lock(self) -> None:
        if self._holding or self._lock_fd is None:
            return
        deadline = time.monotonic() + WAIT_S
        pause = _FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._holding = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE_S)

    def drop_writer_lock(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self):
        try:
            super().commit()
        finally:
            self.drop_writer_lock()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.drop_writer_lock()

    def close(self):
        try:
            super().close()
        finally:
            self.drop_writer_lock()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


class WriterLockedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        connection = self.connection
        if not sql.lstrip()[:6].upper().startswith(_READS):
            connection.take_writer_lock()
        try:
            return super().execute(sql, parameters)
        finally:
            if not connection.in_transaction:   # a write outside a transaction (DDL, autocommit) is done
                connection.drop_writer_lock()

    def executemany(self, sql, seq_of_parameters):
        connection = self.connection
        connection.take_writer_lock()
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            if not connection.in_transaction:
                connection.drop_writer_lock()
