"""The web's accessors to its clients: one of each per app, a Twitch client per thread."""

import threading

from web import create_app
from web.clients import get_celery, get_pusher, get_redis, get_settings, get_twitch


def test_each_client_is_made_once_per_app(app, settings):
    with app.app_context():
        made = (get_settings(), get_redis(), get_celery(), get_pusher())
        assert made == (get_settings(), get_redis(), get_celery(), get_pusher())
        assert get_settings() is settings
        assert get_redis().ping()
    with create_app(settings).app_context():
        others = (get_redis(), get_celery(), get_pusher())
    assert all(mine is not other for mine, other in zip(made[1:], others, strict=True))


def test_a_thread_keeps_its_own_twitch_client_for_each_app(app, settings):
    def client_of(this_app):
        with this_app.test_request_context():
            return get_twitch()

    first = client_of(app)
    assert client_of(app) is first and not first.wait_on_rate_limit
    assert client_of(create_app(settings)) is not first
    in_thread = []
    worker = threading.Thread(target=lambda: in_thread.append(client_of(app)))
    worker.start()
    worker.join()
    assert in_thread[0] is not first and in_thread[0].session is not first.session


def test_a_command_waits_out_the_rate_limit_and_a_request_does_not(app):
    with app.app_context():
        command_client = get_twitch()
    with app.test_request_context():
        request_client = get_twitch()
    assert command_client.wait_on_rate_limit and not request_client.wait_on_rate_limit
