"""The web process. Granian serves :func:`web.server.create_server`, which answers
EventSub on its event loop and hands every other request to the Flask app that
:func:`create_app` builds from three packages: :mod:`web.intake` (the webhooks of Twitch
and Pusher), :mod:`web.viewer` (login, pages, the viewer's API and go-live alerts) and
:mod:`web.operator` (the ``flask`` commands). Beside them here are the serving concerns
every part shares: the clients of Redis, Celery, Pusher and Twitch, errors, health
checks, metrics, security headers and the server with its WSGI bridge."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.error_reports import report_web_errors
from shared.logs import configure_logging
from shared.settings import Settings, load_settings_or_exit
from web import clients, errors, health, metrics, operator, security
from web.intake import pusher_webhooks, websub
from web.viewer import alerts, api, auth, channel_auth, pages, preferences


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
        operator.init_app(app)

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
