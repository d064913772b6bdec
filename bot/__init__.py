"""联企助手: create_app() wires settings, storage and the channel blueprints."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import production
from bot.config import Settings, load_settings


def create_app(overrides: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app: settings loaded once (defaults → config.yaml → env → overrides)."""
    from bot import services as services_mod
    from bot.channels import group_webhook, official_account, wecom, wecom_aibot
    from bot import admin, errors_http, web
    from bot import logs
    settings = settings or load_settings(**(overrides or {}))
    production.require_safe_settings(settings)   # so gunicorn started by hand cannot serve demo secrets
    logs.configure()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_TIME_LIMIT=None,
                      SESSION_COOKIE_SECURE=settings.cookie_secure)
    if settings.trusted_proxies:   # only then is X-Forwarded-For believed: the client is its Nth entry from the right
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    app.json.ensure_ascii = False
    services = services_mod.build(settings)
    app.extensions["bot"] = services
    production.prepare(services)
    enabled = (settings.wechat.enabled, settings.wecom.enabled, settings.group_webhook_enabled, True,
               settings.wecom_bot.enabled)
    for blueprint, on in zip((official_account.bp, wecom.bp, group_webhook.bp, web.bp, wecom_aibot.bp), enabled):
        if on:   # a channel switched off in config answers 404
            app.register_blueprint(blueprint)
    admin.init_app(app, exempt_blueprints=(official_account.bp, wecom.bp, group_webhook.bp, web.bp, wecom_aibot.bp))
    errors_http.init_app(app)
    services_mod.warm_nlp(services)
    return app
