"""The staff console at /admin. One blueprint; one module per page group registers its views on it."""
# Imported for their routes.
from bot.admin import (  # noqa: F401
    accounts,
    auth,
    broadcasts,
    claims,
    complaints,
    dashboard,
    directory,
    groups,
    meetings,
    outreach,
    policies,
    signin,
    understanding,
    unhandled,
)
from bot.admin.common import bp, csrf


def init_app(app, exempt_blueprints) -> None:
    """CSRF on every console form (login included); the signed channel callbacks are exempt."""
    csrf.init_app(app)
    for blueprint in exempt_blueprints:
        csrf.exempt(blueprint)
    auth.login_manager.init_app(app)
    app.teardown_appcontext(auth.close_db)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
