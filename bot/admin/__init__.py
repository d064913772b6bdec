"""The staff console at /admin: login, dashboard, complaints. One blueprint, one job per module."""
from bot.admin.views import bp, init_app

__all__ = ["bp", "init_app"]
