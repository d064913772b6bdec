"""`python -m bot serve`: gunicorn with the app preloaded (jieba's dictionary shared by workers)."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from bot import create_app, production, services
from bot.config import ConfigError


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory, options: dict):
        self.app_factory, self.options = app_factory, options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app_factory()


def _post_fork(server, worker):
    # Connections opened before the fork must not be shared between processes.
    built = services.current()
    built.db.dispose()
    built.redis.connection_pool.reset()


def run(settings, host: str, port: int) -> int:
    """Serve until stopped; non-zero at once when production refuses to start (create_app's checks)."""
    try:   # built here rather than in gunicorn's master, so a refusal is a plain message, not a traceback
        app = create_app(settings=settings)
    except ConfigError as exc:
        return production.report(exc)
    options = {"bind": f"{host}:{port}", "workers": settings.serve_workers, "threads": settings.serve_threads,
               "worker_class": "gthread", "preload_app": True, "timeout": 30, "graceful_timeout": 10,
               "accesslog": "-", "post_fork": _post_fork,
               # Path only: callback query strings carry openids and signatures.
               "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'}
    _Gunicorn(lambda: app, options).run()   # preloaded: the workers fork from this one app
    return 0
