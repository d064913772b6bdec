"""The staff console at /admin. One blueprint; one module per page group registers its views on it."""
from bot.admin import auth
from bot.admin.common import bp, csrf

# Imported for their routes.
from bot.admin import (accounts, broadcasts, complaints, dashboard, directory, meetings, policies,  # noqa: F401
                       signin)
from bot.admin import claims  # noqa: F401
from bot.admin import unhandled  # noqa: F401
from bot.admin import groups  # noqa: F401


def init_app(app, exempt_blueprints) -> None:
    """CSRF on every console form (login included); the signed channel callbacks are exempt."""
    csrf.init_app(app)
    for blueprint in exempt_blueprints:
        csrf.exempt(blueprint)
    auth.login_manager.init_app(app)
    app.teardown_appcontext(auth.close_db)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
