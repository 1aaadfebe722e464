"""Through real processes: a signed go-live reaches the Web Push stand-in once per
device, after Pusher, with the title the feed shows; with ``PUSH_WORKER``, through the
push process alone."""

import time

import pytest

from scripts.processes import free_port
from scripts.stack import Stack
from shared.alerts import add_alert, store_device
from shared.intake import PUMPS
from shared.queues import PUSH_QUEUE
from tests.support import VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY, PushDevice, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(90),
    pytest.mark.stack_env(VAPID_PUBLIC_KEY=VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY=VAPID_PRIVATE_KEY),
]
STREAMER = {"id": "1337", "login": "cool_user", "name": "Cool_User"}


def test_a_go_live_alerts_each_device_once_with_the_title(stack, webpush):
    device = PushDevice(webpush.endpoint("phone"))
    add_alert(stack.redis(), "viewer-1", STREAMER, limit=50)
    store_device(stack.redis(), "viewer-1", device.subscription)
    subscriber = stack.subscribe("cool_user")
    fields = dict(broadcaster_id="1337", name="Cool_User")
    update = stack.send(
        "channel.update", "Cool_User", title="Speedrun night", category="Celeste", **fields
    )
    assert update.status_code == 204 and subscriber.next()[0] == "channel.update"
    for message_id in ("online-1", "online-2"):  # Twitch sends the same go-live twice
        assert (
            stack.send(
                "stream.online", "Cool_User", message_id, stream_id="900001", **fields
            ).status_code
            == 204
        )
    assert subscriber.next()[0] == "stream.online"
    wait_until(lambda: webpush.received("phone"), timeout=20, message="no push arrived")
    [received] = webpush.received("phone")
    payload = device.decrypt(received)
    assert payload["title"] == "Speedrun night" and payload["category"] == "Celeste"
    assert payload["stream_id"] == "900001" and payload["url"] == "/watch/cool_user"
    assert len(webpush.received("phone")) == 1


@pytest.mark.stack_env(
    VAPID_PUBLIC_KEY=VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY=VAPID_PRIVATE_KEY, PUSH_WORKER="true"
)
def test_with_push_worker_on_only_the_push_process_sends_alerts(stack, webpush):
    """PUSH_WORKER: the worker leaves the push queue alone, so a go-live waits for the
    Procfile's push process (``--queues push``), which sends it and runs no pump."""
    device = PushDevice(webpush.endpoint("phone"))
    add_alert(stack.redis(), "viewer-1", STREAMER, limit=50)
    store_device(stack.redis(), "viewer-1", device.subscription)
    subscriber = stack.subscribe("cool_user")
    fields = dict(broadcaster_id="1337", name="Cool_User")
    stack.send("channel.update", "Cool_User", title="Speedrun night", category="Celeste", **fields)
    assert subscriber.next()[0] == "channel.update"
    went_live = stack.send("stream.online", "Cool_User", **fields)
    assert went_live.status_code == 204 and subscriber.next()[0] == "stream.online"
    time.sleep(3)  # time enough for a worker that took the push queue to send it
    assert webpush.received("phone") == []
    Stack.start_worker(stack, "--queues", PUSH_QUEUE, metrics_port=free_port())
    wait_until(lambda: webpush.received("phone"), timeout=20, message="no push arrived")
    assert device.decrypt(webpush.received("phone")[0])["login"] == "cool_user"
    assert stack.redis().zcard(PUMPS) == 1  # the push process took no shard
