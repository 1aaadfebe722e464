"""The web process: webhook intake, health checks and (later) the pages."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.error_reports import report_web_errors
from shared.logs import configure_logging
from shared.publisher import make_pusher_client
from shared.queues import make_celery
from shared.settings import Settings, load_settings_or_exit
from shared.store import connect

MAX_WEBHOOK_BODY = 64 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory: ``granian --interface wsgi --factory web:create_app``."""
    settings = settings or load_settings_or_exit()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_WEBHOOK_BODY,
        SETTINGS=settings,
    )
    if settings.trusted_proxies:
        # Behind that many proxies (nginx in the compose stack), the client's address
        # and scheme are the ones they forwarded.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    configure_logging(settings.log_level, settings.log_format)
    report_web_errors(settings)
    app.extensions["redis"] = connect(settings.redis_url, settings.redis_tls_verify)
    app.extensions["celery"] = make_celery(settings)
    app.extensions["pusher"] = make_pusher_client(settings)

    from web import commands, errors, health, metrics, pusher_webhooks, webhooks, websub

    errors.register(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pusher_webhooks.bp)
    app.register_blueprint(websub.bp)
    commands.register(app)
    from web import auth

    auth.init_app(app)
    from web import api, channel_auth, pages, preferences, security

    app.register_blueprint(api.bp)
    app.register_blueprint(channel_auth.bp)
    app.register_blueprint(preferences.bp)
    pages.init_app(app)
    security.init_app(app)
    return app
