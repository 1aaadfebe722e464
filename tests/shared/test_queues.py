"""The Celery wiring for each broker: Redis transport and visibility timeout, or RabbitMQ
quorum queues with native delayed delivery. (tests/integration/test_broker.py runs tasks
through both for real.)"""

import ssl

import pytest
from celery import Celery, _state
from kombu.exceptions import OperationalError

from shared.queues import QUEUES, RabbitCelery, make_celery
from shared.settings import load_settings
from tests.support import SelfSignedTLSServer

REDIS_URL = "redis://127.0.0.1:6399/0"
RABBITMQ_URL = "amqp://guest:guest@rabbit:5672/sev"


@pytest.fixture(autouse=True)
def current_app_kept():
    """make_celery makes its app the current one; give the other tests theirs back."""
    previous = _state.get_current_app()
    yield
    previous.set_current()


def celery_for(**environ) -> Celery:
    return make_celery(load_settings({"APP_ENV": "development", "REDIS_URL": REDIS_URL, **environ}))


def test_redis_is_the_default_broker_with_its_visibility_timeout():
    app = celery_for(BROKER_VISIBILITY_TIMEOUT="60")
    assert app.conf.broker_url == REDIS_URL
    assert app.conf.broker_transport == "shared.broker:Transport"
    assert app.conf.broker_transport_options["visibility_timeout"] == 60
    assert [queue.name for queue in app.conf.task_queues] == list(QUEUES)
    assert all(not queue.queue_arguments for queue in app.conf.task_queues)
    assert type(app) is Celery


def test_rabbitmq_gets_quorum_queues_behind_topic_exchanges():
    app = celery_for(CELERY_BROKER_URL=RABBITMQ_URL)
    assert app.conf.broker_url == RABBITMQ_URL
    assert app.conf.broker_transport is None  # the URL's: py-amqp
    assert app.conf.broker_transport_options == {"confirm_publish": True}
    for queue in app.conf.task_queues:
        assert queue.queue_arguments == {"x-queue-type": "quorum"}
        assert queue.exchange.type == "topic"  # native delayed delivery cannot use direct
        assert queue.routing_key == queue.name
    assert app.conf.worker_detect_quorum_queues
    assert app.conf.broker_native_delayed_delivery_queue_type == "quorum"
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


@pytest.mark.parametrize("countdown, sent", [(0.6, 1), (1, 1), (2.5, 3), (None, None), (0, 0)])
def test_rabbitmq_countdowns_are_rounded_up_to_whole_seconds(monkeypatch, countdown, sent):
    app = celery_for(CELERY_BROKER_URL=RABBITMQ_URL)
    assert isinstance(app, RabbitCelery)
    seen = []
    monkeypatch.setattr(
        Celery,
        "send_task",
        lambda self, name, args=None, kwargs=None, countdown=None, *rest, **opts: seen.append(
            countdown
        ),
    )
    app.send_task("publish.stream_event", ({},), countdown=countdown)
    assert seen == [sent]


def test_a_rediss_broker_speaks_tls_and_verifies_the_certificate(tmp_path):
    """kombu switches TLS on by itself only for its own transport name, and then
    without verifying; ours would have sent the password in the clear."""
    server = SelfSignedTLSServer(tmp_path)
    app = celery_for(REDIS_URL=f"rediss://:a-redis-password@127.0.0.1:{server.port}/0")
    assert app.conf.broker_use_ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    with pytest.raises(OperationalError), app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    # A TLS handshake the client ended on seeing a certificate no authority signed.
    outcome = server.result()
    assert isinstance(outcome, ssl.SSLError) and "UNKNOWN_CA" in outcome.reason, outcome


def test_a_rediss_broker_with_verification_off_takes_a_self_signed_certificate(tmp_path):
    server = SelfSignedTLSServer(tmp_path)
    app = celery_for(
        REDIS_URL=f"rediss://:a-redis-password@127.0.0.1:{server.port}/0", REDIS_TLS_VERIFY="false"
    )
    assert app.conf.broker_use_ssl == {"ssl_cert_reqs": ssl.CERT_NONE}
    with pytest.raises(OperationalError), app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    assert isinstance(server.result(), bytes)  # the client's first command, through TLS
