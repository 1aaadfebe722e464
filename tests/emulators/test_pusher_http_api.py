"""The emulator's HTTP API, driven by the official Pusher server library."""

from __future__ import annotations

import hashlib
import json
import time
import types

import pusher
import pusher.http
import pytest
import requests
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherBadStatus
from pusher.signature import sign

pytestmark = pytest.mark.timeout(30)


def signed_request(
    emulator,
    method: str,
    path: str,
    body: bytes | None = None,
    params: dict | None = None,
    secret: str | None = None,
    body_md5: str | None = None,
) -> requests.Response:
    """Send a request signed with the official library's helpers, bypassing its checks."""
    query = {
        "auth_key": emulator.key,
        "auth_timestamp": str(int(time.time())),
        "auth_version": "1.0",
        **(params or {}),
    }
    if body is not None:
        query["body_md5"] = body_md5 or hashlib.md5(body).hexdigest()
    to_sign = "\n".join([method, path, pusher.http.make_query_string(query)])
    query["auth_signature"] = sign(secret or emulator.secret, to_sign)
    return requests.request(
        method,
        f"http://{emulator.host}:{emulator.port}{path}",
        params=query,
        data=body,
        timeout=5,
        headers={"Content-Type": "application/json"},
    )


def post_events(emulator, payload: object, **kwargs) -> requests.Response:
    """POST a raw JSON payload to the events endpoint."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return signed_request(emulator, "POST", f"/apps/{emulator.app_id}/events", body, **kwargs)


def test_trigger_reaches_a_public_subscriber(client, open_socket, new_channel):
    channel = new_channel()
    sock = open_socket()
    assert sock.subscribe(channel)["event"] == "pusher_internal:subscription_succeeded"

    assert client.trigger(channel, "greeting", {"hello": "world"}) == {}

    message = sock.next_event("greeting")
    assert message["channel"] == channel
    assert isinstance(message["data"], str)
    assert json.loads(message["data"]) == {"hello": "world"}


def test_trigger_fans_out_to_several_channels_and_excludes_socket_id(
    client, open_socket, new_channel
):
    first, second = new_channel(), new_channel()
    sender, other = open_socket(), open_socket()
    sender.subscribe(first)
    other.subscribe(first)
    other.subscribe(second)

    client.trigger([first, second], "update", "payload", socket_id=sender.socket_id)
    got = {other.next_event("update")["channel"], other.next_event("update")["channel"]}
    assert got == {first, second}

    client.trigger(first, "marker", "after")
    assert sender.recv()["event"] == "marker", "the excluded socket received the event"


def test_trigger_batch_delivers_in_order(client, open_socket, new_channel):
    channel, other = new_channel(), new_channel()
    sock = open_socket()
    sock.subscribe(channel)
    sock.subscribe(other)

    assert (
        client.trigger_batch(
            [
                {"channel": channel, "name": "one", "data": "1"},
                {"channel": other, "name": "two", "data": {"n": 2}},
                {"channel": channel, "name": "three", "data": "3"},
            ]
        )
        == {}
    )
    received = [sock.recv() for _ in range(3)]
    assert [(m["event"], m["channel"]) for m in received] == [
        ("one", channel),
        ("two", other),
        ("three", channel),
    ]
    assert json.loads(received[1]["data"]) == {"n": 2}


def test_batch_of_more_than_ten_events_is_rejected(client, new_channel):
    channel = new_channel()
    batch = [{"channel": channel, "name": "e", "data": str(i)} for i in range(11)]
    with pytest.raises(PusherBadRequest):
        client.trigger_batch(batch)
    assert client.trigger_batch(batch[:10]) == {}


def test_channel_queries(client, emulator, open_socket, new_channel):
    public, presence = new_channel("public-"), new_channel("presence-")
    alice, alice_again, bob = open_socket(), open_socket(), open_socket()
    alice.subscribe(public)
    bob.subscribe(public)
    for sock, user in ((alice, "alice"), (alice_again, "alice"), (bob, "bob")):
        auth = client.authenticate(presence, sock.socket_id, {"user_id": user})
        assert sock.subscribe(presence, **auth)["event"] == "pusher_internal:subscription_succeeded"

    assert client.channels_info(prefix_filter=public) == {"channels": {public: {}}}
    assert client.channels_info(prefix_filter=presence, attributes=["user_count"]) == {
        "channels": {presence: {"user_count": 2}}
    }
    assert public in client.channels_info()["channels"]
    assert client.channel_info(public, ["subscription_count"]) == {
        "occupied": True,
        "subscription_count": 2,
    }
    assert client.channel_info(presence, ["user_count", "subscription_count"]) == {
        "occupied": True,
        "user_count": 2,
        "subscription_count": 3,
    }
    assert client.channel_info(new_channel())["occupied"] is False
    assert sorted(u["id"] for u in client.users_info(presence)["users"]) == ["alice", "bob"]

    with pytest.raises(PusherBadRequest):
        client.channel_info(public, ["user_count"])
    with pytest.raises(PusherBadRequest):
        client.channels_info(attributes=["user_count"])
    with pytest.raises(PusherBadRequest):
        client.users_info(public)


def test_wrong_secret_or_key_is_unauthorised(emulator, new_channel):
    with pytest.raises(PusherBadAuth):
        emulator.client(secret="not-the-secret").trigger(new_channel(), "e", "x")
    with pytest.raises(PusherBadAuth):
        emulator.client(key="not-the-key").channels_info()


def test_expired_timestamp_is_unauthorised(client, new_channel, monkeypatch):
    assert client.trigger(new_channel(), "e", "fresh") == {}
    stale_clock = types.SimpleNamespace(time=lambda: time.time() - 700)
    monkeypatch.setattr(pusher.http, "time", stale_clock)
    with pytest.raises(PusherBadAuth, match="(?i)timestamp"):
        client.trigger(new_channel(), "e", "stale")


def test_data_over_ten_kilobytes_is_too_large(client, emulator, new_channel):
    channel = new_channel()
    assert client.trigger(channel, "e", "x" * 10240) == {}
    with pytest.raises(PusherBadStatus, match="^413"):
        client.trigger(channel, "e", "x" * 10241)
    response = signed_request(
        emulator,
        "POST",
        f"/apps/{emulator.app_id}/batch_events",
        json.dumps({"batch": [{"channel": channel, "name": "e", "data": "é" * 5121}]}).encode(),
    )
    assert response.status_code == 413


def test_unknown_app_id_is_not_found(emulator, new_channel):
    with pytest.raises(PusherBadStatus, match="^404"):
        emulator.client(app_id="999").trigger(new_channel(), "e", "x")


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "e", "data": "x", "channels": ["bad channel!"]},
        {"name": "e", "data": "x", "channels": ["c" * 165]},
        {"name": "e", "data": "x", "channels": [f"c{i}" for i in range(101)]},
        {"name": "e", "data": "x", "channels": []},
        {"data": "x", "channels": ["ok"]},
        {"name": "e", "channels": ["ok"]},
        {"name": "e", "data": {"not": "a string"}, "channels": ["ok"]},
        {"name": "e", "data": "x", "channels": ["ok"], "socket_id": "not-a-socket"},
        b"{not json",
    ],
    ids=[
        "bad-name",
        "long-name",
        "101-channels",
        "no-channels",
        "no-name",
        "no-data",
        "data-not-string",
        "bad-socket-id",
        "bad-json",
    ],
)
def test_malformed_trigger_is_a_bad_request(emulator, payload):
    response = post_events(emulator, payload)
    assert response.status_code == 400, response.text
    assert response.text


def test_body_md5_must_match(emulator, new_channel):
    payload = {"name": "e", "data": "x", "channels": [new_channel()]}
    assert post_events(emulator, payload).status_code == 200
    response = post_events(emulator, payload, body_md5=hashlib.md5(b"other").hexdigest())
    assert response.status_code == 401


def test_trigger_can_report_channel_info(client, emulator, open_socket, new_channel):
    public, presence = new_channel(), new_channel("presence-")
    sock = open_socket()
    sock.subscribe(public)
    sock.subscribe(presence, **client.authenticate(presence, sock.socket_id, {"user_id": "u"}))

    response = post_events(
        emulator,
        {
            "name": "e",
            "data": "x",
            "channels": [public, presence],
            "info": "subscription_count,user_count",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "channels": {
            public: {"subscription_count": 1},
            presence: {"subscription_count": 1, "user_count": 1},
        }
    }
