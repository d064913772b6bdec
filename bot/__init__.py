"""联企助手's composition root: the one place that puts the parts together.

build_services() binds settings, storage and the Dispatcher (given the handlers' ROUTES and FLOWS);
create_app() adds the web: channel blueprints, the console, error pages. This is the only module that
imports `handlers`, so the chat core never depends on the features that use it.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import handlers
from bot import admin, errors_http, logs, production
from bot import services as services_mod
from bot.channels import group_webhook, official_account, simulator, wecom, wecom_aibot
from bot.chat.pipeline import Dispatcher
from bot.config import Settings, load_settings
from bot.services import Services

CALLBACKS = (official_account.bp, wecom.bp, group_webhook.bp, wecom_aibot.bp)


def build_services(settings: Settings) -> Services:
    """Database, Redis, queue and a Dispatcher that knows every route and flow from the start
    (so a pending question is answered even by a process that has not handled a message yet)."""
    return services_mod.build(settings, Dispatcher(handlers.ROUTES, handlers.FLOWS))


def create_app(overrides: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app: settings loaded once (defaults → config.yaml → env → overrides)."""
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
    services = build_services(settings)
    app.extensions["bot"] = services
    production.prepare(services)
    enabled = {official_account.bp: settings.wechat.enabled, wecom.bp: settings.wecom.enabled,
               group_webhook.bp: settings.group_webhook_enabled, wecom_aibot.bp: settings.wecom_bot.enabled,
               simulator.bp: True}
    for blueprint, on in enabled.items():
        if on:   # a channel switched off in config answers 404
            app.register_blueprint(blueprint)
    admin.init_app(app, exempt_blueprints=(*CALLBACKS, simulator.bp))
    errors_http.init_app(app)
    services_mod.warm_nlp(services)
    return app
