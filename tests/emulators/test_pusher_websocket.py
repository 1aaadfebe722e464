"""The emulator's WebSocket protocol, spoken by a raw ``websockets`` client."""

from __future__ import annotations

import json
import re

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

pytestmark = pytest.mark.timeout(30)


def refused_with(url: str) -> tuple[dict, int]:
    """Open ``url``; return the error message sent and the close code that followed."""
    with connect(url, open_timeout=5, ping_interval=None) as ws:
        message = json.loads(ws.recv(timeout=5))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    return message, closed.value.rcvd.code


def test_connection_established_message(open_socket):
    sock = open_socket()
    assert isinstance(sock.established["data"], str)
    data = json.loads(sock.established["data"])
    assert re.fullmatch(r"\d+\.\d+", data["socket_id"])
    assert data["activity_timeout"] > 0
    assert open_socket().socket_id != sock.socket_id


@pytest.mark.parametrize("protocol", ["5", "6", "7"])
def test_supported_protocol_versions_connect(emulator, open_socket, protocol):
    sock = open_socket(emulator.ws_url(query=f"protocol={protocol}&client=py&version=1"))
    sock.send("pusher:ping", {})
    assert sock.recv()["event"] == "pusher:pong"


@pytest.mark.parametrize("protocol", ["4", "8", "x"])
def test_unsupported_protocol_is_refused_with_4007(emulator, protocol):
    message, code = refused_with(emulator.ws_url(query=f"protocol={protocol}&client=js"))
    assert message["event"] == "pusher:error"
    assert message["data"]["code"] == 4007
    assert code == 4007


def test_unknown_app_key_is_refused_with_4001(emulator):
    message, code = refused_with(emulator.ws_url(key="no-such-key"))
    assert message["event"] == "pusher:error"
    assert message["data"]["code"] == 4001
    assert code == 4001


def test_ping_pong_and_invalid_json(open_socket):
    sock = open_socket()
    sock.ws.send("this is not json")
    error = sock.recv()
    assert error["event"] == "pusher:error"
    assert error["data"]["message"]
    sock.send("pusher:ping", {})
    assert sock.recv()["event"] == "pusher:pong"


def test_unsubscribe_stops_delivery(client, open_socket, new_channel):
    channel, marker = new_channel(), new_channel()
    sock = open_socket()
    sock.subscribe(channel)
    sock.subscribe(marker)
    client.trigger(channel, "before", "1")
    assert sock.next_event("before")["channel"] == channel

    sock.send("pusher:unsubscribe", {"channel": channel})
    client.trigger(channel, "after", "2")
    client.trigger(marker, "marker", "3")
    assert sock.recv()["event"] == "marker"
    assert client.channel_info(channel)["occupied"] is False


def test_private_channel_needs_a_valid_signature(client, open_socket, new_channel):
    channel = new_channel("private-")
    good, bad = open_socket(), open_socket()

    auth = client.authenticate(channel, good.socket_id)
    reply = good.subscribe(channel, **auth)
    assert reply == {
        "event": "pusher_internal:subscription_succeeded",
        "channel": channel,
        "data": "{}",
    }

    wrong = client.authenticate(channel, good.socket_id)  # signed for another socket
    reply = bad.subscribe(channel, **wrong)
    assert reply["event"] == "pusher:error"
    assert "signature" in reply["data"]["message"].lower()
    assert bad.subscribe(new_channel("private-"))["event"] == "pusher:error"
    assert client.channel_info(channel, ["subscription_count"])["subscription_count"] == 1

    client.trigger(channel, "secret", "s")
    assert good.next_event("secret")["channel"] == channel
    bad.send("pusher:ping", {})
    assert bad.recv()["event"] == "pusher:pong", "refused socket got the private event"


def join_presence(client, sock, channel, user_id, user_info=None):
    """Subscribe ``sock`` to a presence channel as ``user_id``; return the reply."""
    auth = client.authenticate(
        channel, sock.socket_id, {"user_id": user_id, "user_info": user_info}
    )
    return sock.subscribe(channel, **auth)


def test_presence_members(client, open_socket, new_channel, wait):
    channel = new_channel("presence-")
    ann, bob, bob_again = open_socket(), open_socket(), open_socket()

    join_presence(client, ann, channel, "ann", {"name": "Ann"})
    reply = join_presence(client, bob, channel, "bob", {"name": "Bob"})
    assert reply["event"] == "pusher_internal:subscription_succeeded"
    presence = json.loads(reply["data"])["presence"]
    assert sorted(presence["ids"]) == ["ann", "bob"]
    assert presence["hash"] == {"ann": {"name": "Ann"}, "bob": {"name": "Bob"}}
    assert presence["count"] == 2

    added = ann.next_event("pusher_internal:member_added", channel)
    assert json.loads(added["data"]) == {"user_id": "bob", "user_info": {"name": "Bob"}}

    join_presence(client, bob_again, channel, "bob", {"name": "Bob"})
    assert client.channel_info(channel, ["user_count"])["user_count"] == 2
    bob.close()
    wait(
        lambda: client.channel_info(channel, ["subscription_count"])["subscription_count"] == 2,
        message="the server to notice the closed socket",
    )
    client.trigger(channel, "marker", "m")
    assert ann.recv()["event"] == "marker", "a second socket of bob was announced or removed"

    bob_again.send("pusher:unsubscribe", {"channel": channel})
    removed = ann.next_event("pusher_internal:member_removed", channel)
    assert json.loads(removed["data"]) == {"user_id": "bob"}
    assert [u["id"] for u in client.users_info(channel)["users"]] == ["ann"]


def test_presence_needs_channel_data(client, open_socket, new_channel):
    channel = new_channel("presence-")
    sock = open_socket()
    auth = client.authenticate(channel, sock.socket_id)  # no user data
    assert sock.subscribe(channel, **auth)["event"] == "pusher:error"
    assert client.channel_info(channel)["occupied"] is False


def test_client_events(client, open_socket, new_channel):
    private, presence, public = new_channel("private-"), new_channel("presence-"), new_channel()
    ann, bob = open_socket(), open_socket()
    for sock in (ann, bob):
        sock.subscribe(private, **client.authenticate(private, sock.socket_id))
        sock.subscribe(public)
    join_presence(client, ann, presence, "ann")
    join_presence(client, bob, presence, "bob")
    ann.next_event("pusher_internal:member_added", presence)

    ann.send("client-typing", {"text": "hi"}, channel=private)
    message = bob.next_event("client-typing")
    assert message["channel"] == private
    assert message["data"] == {"text": "hi"}

    ann.send("client-wave", "hello", channel=presence)
    message = bob.next_event("client-wave")
    assert (message["channel"], message["data"], message["user_id"]) == (presence, "hello", "ann")

    client.trigger(private, "marker", "m")
    assert ann.recv()["event"] == "marker", "the sender got its own client event"

    ann.send("client-nope", {}, channel=public)
    assert ann.recv()["event"] == "pusher:error"
    ann.send("client-nope", {}, channel=new_channel("private-"))
    assert ann.recv()["event"] == "pusher:error"


def test_idle_client_is_pinged_then_closed_with_4201(emulator_factory):
    emulator = emulator_factory(
        PUSHER_EMULATOR_ACTIVITY_TIMEOUT="1", PUSHER_EMULATOR_PONG_TIMEOUT="1"
    )
    with connect(emulator.ws_url(), open_timeout=5, ping_interval=None) as ws:
        established = json.loads(ws.recv(timeout=5))
        assert json.loads(established["data"])["activity_timeout"] == 1
        assert json.loads(ws.recv(timeout=5))["event"] == "pusher:ping"
        ws.send(json.dumps({"event": "pusher:pong", "data": {}}))
        assert json.loads(ws.recv(timeout=5))["event"] == "pusher:ping"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd.code == 4201
