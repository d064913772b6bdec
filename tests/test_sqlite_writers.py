"""SQLite writers take turns on a file lock (storage/sqlite_writers.py): every write lands, a writer never
keeps the lock past its transaction, readers never wait for it, and a writer that cannot get it does not
hang for ever."""
from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import sqlite_writers
from storage.db import Database


@pytest.fixture
def two_processes(tmp_path):
    """Two engines on one database file, as two gunicorn workers have."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first, second = Database().bind(url), Database().bind(url)
    with first.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))
    yield first, second, str(tmp_path / "bot.db")
    first.dispose()
    second.dispose()


def lock_is_free(database_path: str) -> bool:
    fd = os.open(sqlite_writers.lock_path(database_path), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_the_lock_is_held_only_while_a_write_transaction_is_open(two_processes):
    first, _second, path = two_processes
    session = first.new_session()
    session.execute(text("SELECT n FROM counter")).all()
    assert lock_is_free(path)                       # reading takes no turn
    session.execute(text("UPDATE counter SET n = 5"))
    assert not lock_is_free(path)
    session.commit()
    assert lock_is_free(path)
    session.execute(text("UPDATE counter SET n = 6"))
    session.rollback()
    assert lock_is_free(path)
    with pytest.raises(OperationalError):
        session.execute(text("UPDATE no_such_table SET n = 1"))
    session.rollback()
    assert lock_is_free(path)
    session.close()


def test_concurrent_writers_from_two_processes_all_land(two_processes):
    first, second, _path = two_processes
    errors = []

    def add(db, times):
        try:
            for _ in range(times):
                with db.session() as session:
                    session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    session.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(db, 100)) for db in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with first.session() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 400


def test_readers_go_on_while_another_process_writes(two_processes):
    first, second, path = two_processes
    writer = first.new_session()
    writer.execute(text("UPDATE counter SET n = 41"))
    with second.session() as reader:   # the console's pages while a message is being handled
        assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    writer.commit()
    writer.close()
    with second.session() as reader:
        assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 41


def test_a_second_writer_in_the_same_thread_fails_instead_of_hanging(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_writers, "WAIT_S", 0.2)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    quick = Database().bind(url)
    with quick.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    outer = quick.new_session()
    outer.execute(text("INSERT INTO t VALUES (1)"))
    inner = quick.engine.connect()
    inner.exec_driver_sql("PRAGMA busy_timeout=100")
    with pytest.raises(OperationalError, match="locked"):
        inner.execute(text("INSERT INTO t VALUES (2)"))
    inner.rollback()
    inner.close()
    outer.commit()
    outer.close()
    with quick.session() as session:
        assert session.execute(text("SELECT n FROM t")).scalars().all() == [1]
    quick.dispose()


def test_in_memory_databases_have_no_lock_file(tmp_path):
    db = Database().bind("sqlite://")
    with db.session() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert sqlite_writers.lock_path(":memory:") is None
    assert list(tmp_path.iterdir()) == []
    db.dispose()
