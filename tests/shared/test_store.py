"""Redis state against a real Redis server."""

import ssl

import pytest
import redis

from shared import store
from tests.support import SelfSignedTLSServer


def event(n, login="cool_user"):
    return {
        "id": f"m{n}",
        "type": "stream.offline",
        "message": f"event {n}",
        "broadcaster": {"id": "1", "login": login, "name": login},
        "occurred_at": "t",
    }


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
    assert [d["payload"]["id"] for d in store.dead_letters(redis_client)] == ["m1", "m2"]


def test_channel_occupancy(redis_client):
    store.record_channel_occupancy(redis_client, "a", True)
    store.record_channel_occupancy(redis_client, "b", True)
    store.record_channel_occupancy(redis_client, "a", False)
    assert store.occupied_channels(redis_client) == ["b"]


def record_stream(client, order_key, live, stream_id="", started_at=""):
    with client.pipeline(transaction=False) as pipe:
        store.queue_stream_state(pipe, "1", order_key, live, stream_id, started_at, ttl=60)
        pipe.execute()


def test_stream_state_keeps_the_newest_whatever_the_arrival_order(redis_client):
    record_stream(redis_client, "2026-01-01T12:00:05.000000000Z", False)
    record_stream(redis_client, "2026-01-01T12:00:01.000000000Z", True, "s1", "12:00:00")
    [state] = store.broadcaster_states(redis_client, ["1"])
    assert state == {
        "stream_order_key": "2026-01-01T12:00:05.000000000Z",
        "live": "0",
        "started_at": "",
    }, "the older go-live must not overwrite the offline"
    record_stream(redis_client, "2026-01-01T12:00:09.000000000Z", True, "s2", "12:00:08")
    record_stream(redis_client, "2026-01-01T12:00:20.000000000Z", False)
    [state] = store.broadcaster_states(redis_client, ["1"])
    assert state["live"] == "0" and state["stream_id"] == "s2", "the ended stream is remembered"
    assert 0 < redis_client.ttl(store.channel_state_key("1")) <= 60


def test_stream_and_title_are_guarded_each_by_its_own_time(redis_client):
    store.remember_channel_state(
        redis_client, "1", "T", "C", ttl=60, order_key="2026-01-01T12:00:09.000000000Z"
    )
    record_stream(redis_client, "2026-01-01T12:00:05.000000000Z", True, "s1", "12:00:04")
    assert store.channel_state(redis_client, "1") == {"title": "T", "category_name": "C"}
    [state] = store.broadcaster_states(redis_client, ["1"])
    assert state["live"] == "1" and state["title"] == "T"


def test_helix_answers_count_as_of_a_while_before_they_were_asked():
    asked_at = 1_800_000_000  # 2027-01-15T08:00:00Z
    assert store.HELIX_STALE_SECONDS == 180
    assert store.helix_order_key(asked_at) == "2027-01-15T07:57:00.000000000Z"


def test_cached_with_time_keeps_the_answer_and_when_it_was_asked(redis_client):
    answers = iter(["first", "second"])
    first, asked_at = store.cached_with_time(redis_client, "sev:k", 60, lambda: next(answers))
    again, asked_again = store.cached_with_time(redis_client, "sev:k", 60, lambda: next(answers))
    assert (first, again, asked_again) == ("first", "first", asked_at)
    fresh, asked_fresh = store.cached_with_time(
        redis_client, "sev:k", 60, lambda: next(answers), refresh=True
    )
    assert fresh == "second" and asked_fresh >= asked_at


def test_one_dead_letter_can_be_removed(redis_client):
    store.add_dead_letter(redis_client, "publish", event(1), "first")
    store.add_dead_letter(redis_client, "publish", event(2), "second")
    stored, letter = store.dead_letter_items(redis_client)[1]
    assert letter["reason"] == "second"
    assert store.remove_dead_letter(redis_client, stored)
    assert not store.remove_dead_letter(redis_client, stored)
    assert [d["reason"] for d in store.dead_letters(redis_client)] == ["first"]


def test_dead_letters_keep_the_newest_and_count_the_dropped(redis_client):
    for number in range(5):
        store.add_dead_letter(redis_client, "publish", event(number), "why", kept=3)
    assert [letter["payload"]["id"] for letter in store.dead_letters(redis_client)] == [
        event(n)["id"] for n in (2, 3, 4)
    ]
    assert store.dead_letters_dropped(redis_client) == 2


def test_the_default_cap_is_ten_thousand(redis_client):
    assert store.DEAD_LETTERS_KEPT == 10_000
    with redis_client.pipeline(transaction=False) as pipe:
        for number in range(10_003):
            store.add_dead_letter(pipe, "publish", {"id": number}, "why")
        pipe.execute()
    assert redis_client.llen(store.DEAD_LETTERS) == 10_000
    assert store.dead_letters_dropped(redis_client) == 3
    assert store.dead_letters(redis_client)[0]["payload"]["id"] == 3


def test_a_rediss_server_certificate_is_verified(tmp_path):
    server = SelfSignedTLSServer(tmp_path)
    with pytest.raises(redis.ConnectionError):
        store.connect(f"rediss://127.0.0.1:{server.port}/0").ping()
    outcome = server.result()
    assert isinstance(outcome, ssl.SSLError) and "UNKNOWN_CA" in outcome.reason, outcome


def test_verification_off_takes_a_self_signed_certificate(tmp_path):
    server = SelfSignedTLSServer(tmp_path)
    with pytest.raises(redis.RedisError):  # the server never answers
        store.connect(f"rediss://127.0.0.1:{server.port}/0", verify_tls=False).ping()
    assert isinstance(server.result(), bytes)  # the client's first command, through TLS


def test_scripts_run_by_their_sha_and_never_meet_a_redis_that_forgot_them(redis_client):
    redis_client.config_resetstat()
    redis_client.script_flush()  # as after a restart or a failover
    store.add_dead_letter(redis_client, "publish", event(1), "refused")  # NOSCRIPT, loaded
    claimed = []
    with redis_client.pipeline(transaction=False) as pipe:
        for _ in range(2):  # the same pipeline sent twice, Redis forgetting in between
            redis_client.script_flush()
            store.claim_event(pipe, "sev:seen:message:m1", None, "1-0", None, 60, 900)
            store.claim_event(pipe, "sev:seen:message:m1", None, "2-0", None, 60, 900)
            store.claim_event(pipe, "sev:seen:message:m1", None, "1-0", None, 60, 900)
            claimed.append(pipe.execute())
    verdicts = [store.CLAIMED, store.DUPLICATE_MESSAGE, store.CLAIMED]
    assert claimed == [verdicts, verdicts]
    assert [letter["reason"] for letter in store.dead_letters(redis_client)] == ["refused"]
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 2, "the text once a pipeline"
    assert stats["cmdstat_evalsha"]["calls"] == 2 + 4
    assert stats["cmdstat_evalsha"]["failed_calls"] == 1, "only the client's first call"
