"""Liveness and readiness."""

from shared.settings import load_settings
from tests.support import free_port, process_environment
from web import create_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_with_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["redis"] == "ok"


def test_readyz_without_redis():
    port = free_port()
    settings = load_settings(process_environment(REDIS_URL=f"redis://127.0.0.1:{port}/0"))
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"
    assert response.json["redis"] == "Redis unreachable"
    assert str(port) not in response.get_data(as_text=True)
    assert "127.0.0.1" not in response.get_data(as_text=True)
