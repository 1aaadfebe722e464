"""Redis state against a real Redis server."""

from shared import store


def event(n, login="cool_user"):
    return {"id": f"m{n}", "type": "stream.offline", "message": f"event {n}",
            "broadcaster": {"id": "1", "login": login, "name": login}, "occurred_at": "t"}


def test_claim_belongs_to_its_first_owner(redis_client):
    assert store.claim(redis_client, "sev:k", "task-a")
    assert store.claim(redis_client, "sev:k", "task-a"), "a redelivered task keeps its claim"
    assert not store.claim(redis_client, "sev:k", "task-b"), "a duplicate is refused"
    assert 0 < redis_client.ttl("sev:k") <= store.CLAIM_TTL


def test_recent_events_keep_the_last_twenty_newest_first(redis_client):
    for n in range(25):
        store.add_recent_event(redis_client, event(n), ttl=60)
    kept = store.recent_events(redis_client, "cool_user")
    assert [e["id"] for e in kept] == [f"m{n}" for n in range(24, 4, -1)]
    assert 0 < redis_client.ttl(store.recent_events_key("cool_user")) <= 60


def test_storing_an_event_twice_keeps_one_copy(redis_client):
    store.add_recent_event(redis_client, event(1), ttl=60)
    store.add_recent_event(redis_client, event(1), ttl=60)
    assert len(store.recent_events(redis_client, "cool_user")) == 1


def test_channel_state_round_trip(redis_client):
    store.remember_channel_state(redis_client, "1", "T", "C", ttl=60)
    assert store.channel_state(redis_client, "1") == {"title": "T", "category_name": "C"}
    assert store.channel_state(redis_client, "2") == {}


def test_dead_letters_keep_order_and_reason(redis_client):
    store.add_dead_letter(redis_client, "publish", event(1), "first")
    store.add_dead_letter(redis_client, "publish", event(2), "second")
    assert [d["reason"] for d in store.dead_letters(redis_client)] == ["first", "second"]
    assert store.take_dead_letter(redis_client)["payload"]["id"] == "m1"
    assert len(store.dead_letters(redis_client)) == 1


def test_channel_occupancy(redis_client):
    store.record_channel_occupancy(redis_client, "a", True)
    store.record_channel_occupancy(redis_client, "b", True)
    store.record_channel_occupancy(redis_client, "a", False)
    assert store.occupied_channels(redis_client) == ["b"]
