"""The alert lists and devices in Redis."""

from shared.alerts import (
    add_alert,
    alert_devices,
    alerted_streamers,
    forget_devices,
    remove_alert,
    store_device,
)

COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


def device(n: int) -> dict:
    return {"endpoint": f"https://push.example.net/{n}", "keys": {"p256dh": "k", "auth": "a"}}


def test_a_streamer_is_alerted_until_its_last_viewer_removes_it(redis_client):
    assert add_alert(redis_client, "1", COOL_USER, limit=50) == 1
    assert add_alert(redis_client, "1", COOL_USER, limit=50) == 0
    assert add_alert(redis_client, "2", COOL_USER, limit=1) == 1
    assert add_alert(redis_client, "2", {**COOL_USER, "id": "9", "login": "other"}, limit=1) == -1
    remove_alert(redis_client, "1", "cool_user")
    assert alerted_streamers(redis_client) == {COOL_USER["id"]: COOL_USER}
    assert remove_alert(redis_client, "2", "cool_user") == COOL_USER
    assert remove_alert(redis_client, "2", "cool_user") is None
    assert alerted_streamers(redis_client) == {}


def test_a_viewer_keeps_their_newest_devices_and_loses_them_all_at_once(redis_client):
    add_alert(redis_client, "1", COOL_USER, limit=50)
    for n in range(12):
        store_device(redis_client, "1", device(n))
    endpoints = {d["endpoint"] for d in alert_devices(redis_client, COOL_USER["id"]).values()}
    assert endpoints == {device(n)["endpoint"] for n in range(2, 12)}
    assert forget_devices(redis_client, "1") == 10
    assert alert_devices(redis_client, COOL_USER["id"]) == {}
    assert redis_client.keys("sev:push-*") == []
