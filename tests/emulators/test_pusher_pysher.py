"""The emulator seen by ``pysher``, a third-party WebSocket client (protocol 6)."""

from __future__ import annotations

import json
import logging
import queue
import threading

import pysher
import pytest

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def pysher_client(emulator):
    """A connected pysher client that signs private and presence channels itself."""
    connected = threading.Event()
    client = pysher.Pusher(
        emulator.key,
        secure=False,
        custom_host=emulator.host,
        port=emulator.port,
        secret=emulator.secret,
        log_level=logging.WARNING,
        user_data={"user_id": "pysher-user", "user_info": {"lib": "pysher"}},
    )
    client.connection.bind("pusher:connection_established", lambda _data: connected.set())
    # pysher's reader thread only re-checks for a disconnect when its select()
    # times out (100 s by default); a short timeout keeps teardown quick.
    client.connection.socket_kwargs["ping_timeout"] = 0.2
    client.connect()
    assert connected.wait(10), "pysher never saw pusher:connection_established"
    yield client
    client.disconnect(timeout=5)


def listen(channel, event: str) -> queue.Queue:
    """Collect the data of every ``event`` on a pysher channel."""
    received: queue.Queue = queue.Queue()
    channel.bind(event, received.put)
    return received


@pytest.mark.parametrize("prefix", ["", "private-", "presence-"])
def test_pysher_receives_triggered_events(pysher_client, client, new_channel, wait, prefix):
    name = new_channel(prefix)
    channel = pysher_client.subscribe(name)
    received = listen(channel, "news")
    wait(lambda: client.channel_info(name)["occupied"], message=f"pysher to join {name}")

    client.trigger(name, "news", {"headline": "emulated"})
    assert json.loads(received.get(timeout=5)) == {"headline": "emulated"}


def test_pysher_presence_membership(pysher_client, client, open_socket, new_channel, wait):
    name = new_channel("presence-")
    pysher_client.subscribe(name)
    wait(lambda: client.users_info(name)["users"], message="pysher to join the presence channel")
    assert client.users_info(name)["users"] == [{"id": "pysher-user"}]

    watcher = open_socket()
    auth = client.authenticate(name, watcher.socket_id, {"user_id": "watcher"})
    reply = watcher.subscribe(name, **auth)
    assert json.loads(reply["data"])["presence"]["hash"]["pysher-user"] == {"lib": "pysher"}

    pysher_client.unsubscribe(name)
    removed = watcher.next_event("pusher_internal:member_removed", name)
    assert json.loads(removed["data"]) == {"user_id": "pysher-user"}


def test_pysher_client_events_reach_other_subscribers(
    pysher_client, client, open_socket, new_channel, wait
):
    name = new_channel("private-")
    channel = pysher_client.subscribe(name)
    wait(lambda: client.channel_info(name)["occupied"], message="pysher to join")
    peer = open_socket()
    peer.subscribe(name, **client.authenticate(name, peer.socket_id))

    channel.trigger("client-hello", {"from": "pysher"})
    message = peer.next_event("client-hello")
    assert message["channel"] == name
    assert message["data"] == {"from": "pysher"}
