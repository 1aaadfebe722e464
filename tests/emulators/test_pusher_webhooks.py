"""Webhooks sent by the emulator, checked with the official library's validator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(30)


def validated(emulator, receiver) -> list[dict]:
    """Validate every received webhook with the official library; return their events."""
    checker = emulator.client()
    events = []
    for headers, body in receiver.requests:
        assert headers["Content-Type"] == "application/json"
        payload = checker.validate_webhook(
            key=headers["X-Pusher-Key"], signature=headers["X-Pusher-Signature"], body=body.decode()
        )
        assert payload is not None, f"webhook failed validation: {headers} {body!r}"
        assert isinstance(payload["time_ms"], int)
        events.extend(payload["events"])
    return events


def test_channel_occupied_and_vacated(
    emulator_factory, open_socket, make_webhook_receiver, new_channel, wait
):
    receiver = make_webhook_receiver()
    emulator = emulator_factory(PUSHER_WEBHOOK_URL=receiver.url)
    channel = new_channel()

    sock = open_socket(emulator.ws_url())
    sock.subscribe(channel)
    wait(lambda: receiver.events(), message="channel_occupied")
    assert validated(emulator, receiver) == [{"name": "channel_occupied", "channel": channel}]

    sock.send("pusher:unsubscribe", {"channel": channel})
    wait(lambda: len(receiver.events()) == 2, message="channel_vacated")
    assert validated(emulator, receiver)[1] == {"name": "channel_vacated", "channel": channel}

    forged = emulator.client(secret="another-secret")
    headers, body = receiver.requests[0]
    assert (
        forged.validate_webhook(
            key=headers["X-Pusher-Key"], signature=headers["X-Pusher-Signature"], body=body.decode()
        )
        is None
    )


def test_presence_member_webhooks(
    emulator_factory, open_socket, make_webhook_receiver, new_channel, wait
):
    receiver = make_webhook_receiver()
    emulator = emulator_factory(PUSHER_WEBHOOK_URL=receiver.url)
    client, channel = emulator.client(), new_channel("presence-")

    sock = open_socket(emulator.ws_url())
    sock.subscribe(channel, **client.authenticate(channel, sock.socket_id, {"user_id": "u7"}))
    wait(lambda: len(receiver.events()) == 2, message="occupied and member_added")
    sock.close()
    wait(lambda: len(receiver.events()) == 4, message="member_removed and vacated")

    assert validated(emulator, receiver) == [
        {"name": "channel_occupied", "channel": channel},
        {"name": "member_added", "channel": channel, "user_id": "u7"},
        {"name": "member_removed", "channel": channel, "user_id": "u7"},
        {"name": "channel_vacated", "channel": channel},
    ]


def test_failed_webhooks_are_retried(
    emulator_factory, open_socket, make_webhook_receiver, new_channel, wait
):
    receiver = make_webhook_receiver(fail_first=2)
    emulator = emulator_factory(PUSHER_WEBHOOK_URL=receiver.url)
    channel = new_channel()
    sock = open_socket(emulator.ws_url())
    sock.subscribe(channel)
    wait(lambda: receiver.events(), message="a webhook after two failures")
    assert receiver.attempts == 3
    assert validated(emulator, receiver) == [{"name": "channel_occupied", "channel": channel}]


def test_unreachable_webhook_url_does_not_block_events(emulator_factory, open_socket, new_channel):
    emulator = emulator_factory(PUSHER_WEBHOOK_URL="http://127.0.0.1:9/unreachable")
    channel = new_channel()
    sock = open_socket(emulator.ws_url())
    sock.subscribe(channel)
    assert emulator.client().trigger(channel, "still", "works") == {}
    assert sock.next_event("still")["data"] == "works"
