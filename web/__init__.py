"""The web process: webhook intake, the pages, the viewer API, login with Twitch and
the operator commands. Granian serves :func:`web.server.create_server`."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.error_reports import report_web_errors
from shared.logs import configure_logging
from shared.settings import Settings, load_settings_or_exit
from web import (
    alerts,
    api,
    auth,
    channel_auth,
    clients,
    commands,
    errors,
    health,
    metrics,
    pages,
    preferences,
    pusher_webhooks,
    security,
    websub,
)


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory of the Flask app, which :mod:`web.server` serves (behind the
    EventSub intake) and ``flask --app web`` runs commands in."""
    settings = settings or load_settings_or_exit()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=errors.MAX_REQUEST_BODY)
    if settings.trusted_proxies:
        # Behind that many proxies (nginx in the compose stack), the client's address
        # and scheme are the ones they forwarded. Wrapping wsgi_app is Flask's idiom.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    configure_logging(settings.log_level, settings.log_format)
    report_web_errors(settings)

    clients.init_app(app, settings)
    with app.app_context():  # so that each init_app reaches the clients as views do
        errors.init_app(app)
        metrics.init_app(app)
        auth.init_app(app)
        pages.init_app(app)
        security.init_app(app)
        commands.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(pusher_webhooks.bp)
    app.register_blueprint(websub.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(channel_auth.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(pages.bp)
    return app
