"""Go-live alerts: once Pusher has taken a ``stream.online``, one task on the push queue
pushes it to every device of every viewer alerted of that streamer.

Off the publish path: the pump only queues the task (:func:`queue_go_live_alerts`).
Each device gets one push per stream: a device is claimed for the stream id before its
push and marked once the push service answered, so a repeated ``stream.online``, a
retry or a redelivered task never alerts it twice. Devices the service calls gone
(404, 410) or made for another VAPID key (403) are forgotten; 429, 5xx and network
failures are retried with backoff.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import cast

import redis
from celery import Task, shared_task

from shared.alerts import alert_devices, alerting_key, forget_device
from shared.events import STREAM_ONLINE, Event
from shared.lua import LuaScript
from shared.task_names import SEND_GO_LIVE_ALERTS
from shared.web_push import GONE, RETRY, SENT, Outcome, PushSender
from worker.context import redis_client, settings, twitch_client
from worker.push_metrics import count_failed, count_sent, subscriptions_removed

logger = logging.getLogger(__name__)
MAX_RETRIES = 5
STALE_CLAIM_SECONDS = 30  # a run takes at most its budget and one request's time-out
# Claim each device (ARGV[4...]) of a stream's hash KEYS[1] that has no state yet, or a
# claim older than ARGV[2] seconds (its task died) at time ARGV[1]; keep the hash ARGV[3]
# seconds. The devices claimed.
_CLAIM_DEVICES = LuaScript("""
local claimed = {}
for i = 4, #ARGV do
  local state = redis.call('HGET', KEYS[1], ARGV[i])
  if not state or (string.sub(state, 1, 8) == 'sending:'
      and tonumber(string.sub(state, 9)) < tonumber(ARGV[1]) - tonumber(ARGV[2])) then
    redis.call('HSET', KEYS[1], ARGV[i], 'sending:' .. ARGV[1])
    claimed[#claimed + 1] = ARGV[i]
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return claimed
""")


def pushed_key(stream_id: str) -> str:
    """Key of a stream's hash: device -> ``sent``, ``gone``, ``refused`` or its claim."""
    return f"sev:push:stream:{stream_id}"


def alert_payload(event: Event) -> dict:
    """What the service worker shows for a ``stream.online``: the name, the title and
    category as of the go-live, where a click goes, and a tag per streamer."""
    streamer = event["broadcaster"]
    return {
        "type": STREAM_ONLINE,
        "login": streamer["login"],
        "name": streamer.get("name") or streamer["login"],
        "title": event.get("title") or "",
        "category": event.get("category_name") or "",
        "stream_id": event.get("stream_id") or event["id"],
        "url": f"/watch/{streamer['login']}",
        "tag": f"live-{streamer['login']}",
    }


def queue_go_live_alerts(go_lives: list[tuple[Event, str | None]]) -> None:
    """After Pusher took these ``stream.online`` events (each with its Twitch time): queue
    one alert task for each streamer some viewer wants alerts of."""
    if not go_lives or not settings().web_push:
        return
    with redis_client().pipeline(transaction=False) as pipe:
        for event, _ in go_lives:
            pipe.scard(alerting_key(event["broadcaster"]["id"]))
        wanted = pipe.execute()
    for (event, twitch_time), viewers in zip(go_lives, wanted, strict=True):
        if viewers:
            try:
                send_go_live_alerts.delay(
                    event["broadcaster"]["id"], alert_payload(event), twitch_time
                )
            except Exception as error:  # broker down: the go-live was published all the same
                logger.error("cannot queue the go-live alerts of %s: %s", event["id"], error)


@shared_task(name=SEND_GO_LIVE_ALERTS, bind=True, acks_late=True, max_retries=None)
def send_go_live_alerts(
    self: Task, broadcaster_id: str, alert: dict, twitch_time: str | None = None
) -> None:
    """Push ``alert`` (:func:`alert_payload`) to the devices of every viewer alerted of
    the streamer that have not had it; retry those the push services could not take."""
    config = settings()
    if not config.web_push:  # queued before Web Push was turned off
        logger.warning("Web Push is off: the alerts of stream %s are dropped", alert["stream_id"])
        return
    client = redis_client()
    devices = alert_devices(client, broadcaster_id)
    claimed = claim(client, alert["stream_id"], list(devices))
    if not claimed:
        return
    if not alert["title"]:
        alert = with_channel_information(alert, broadcaster_id)
    sender = PushSender(config.vapid_private_key, config.vapid_subject)
    outcomes = sender.fan_out(
        {device: devices[device] for device in claimed},
        json.dumps(alert).encode(),
        alert["tag"],
    )
    settle(client, alert["stream_id"], outcomes, twitch_time)
    retrying = [outcome for outcome in outcomes if outcome.result == RETRY]
    if not retrying:
        return
    if self.request.retries >= MAX_RETRIES:
        count_failed(["gave_up"] * len(retrying))
        logger.error("gave up pushing %s to %d device(s)", alert["stream_id"], len(retrying))
        return
    delay = retry_delay(self.request.retries, max(o.retry_after for o in retrying))
    logger.warning(
        "%d push(es) of %s not taken; retrying in %.1fs", len(retrying), alert["stream_id"], delay
    )
    raise self.retry(countdown=delay)


def with_channel_information(alert: dict, broadcaster_id: str) -> dict:
    """``alert`` with the channel's title and category as Twitch has them now, for a
    go-live no title change came before (a streamer only alerted of: its lease holds
    ``stream.online`` alone, so no ``channel.update`` tells the title). Without them when
    Twitch cannot say: the alert is worth more than its subtitle."""
    try:
        channel = twitch_client().channel_information(broadcaster_id)
    except Exception as error:  # Twitch down or the budget spent: push what is known
        logger.warning("no title for the alerts of %s: %s", alert["stream_id"], error)
        return alert
    if not channel:
        return alert
    return {
        **alert,
        "title": channel.get("title") or "",
        "category": channel.get("game_name") or "",
    }


def claim(client: redis.Redis, stream_id: str, devices: list[str]) -> list[str]:
    """The devices this run is to push ``stream_id`` to: those not pushed nor being pushed."""
    if not devices:
        return []
    arguments: list[float | str] = [
        time.time(),
        STALE_CLAIM_SECONDS,
        settings().dedupe_window_seconds,
        *devices,
    ]
    return cast(list[str], _CLAIM_DEVICES([pushed_key(stream_id)], arguments, client=client))


def settle(
    client: redis.Redis, stream_id: str, outcomes: list[Outcome], twitch_time: str | None
) -> None:
    """Record each device's outcome: pushed, gone (forgotten), refused, or released for
    the retry; count them."""
    with client.pipeline(transaction=False) as pipe:
        for outcome in outcomes:
            if outcome.result == RETRY:
                pipe.hdel(pushed_key(stream_id), outcome.device)
            else:
                pipe.hset(pushed_key(stream_id), outcome.device, outcome.result)
        pipe.execute()
    gone = [outcome.device for outcome in outcomes if outcome.result == GONE]
    for device in gone:
        forget_device(client, device)
    subscriptions_removed.inc(len(gone))
    count_sent(twitch_time, [o.accepted_at for o in outcomes if o.result == SENT])
    count_failed([outcome.reason for outcome in outcomes if outcome.result != SENT])


def retry_delay(retries: int, asked: float) -> float:
    """Seconds before the next run: 1, 2, 4... at random from the upper half, at least
    what a service asked for, at most PUBLISH_RETRY_BACKOFF_MAX (a waiting retry must
    come due well within the broker's visibility time-out)."""
    ceiling = 2.0**retries
    return min(
        float(settings().publish_retry_backoff_max),
        max(asked, random.uniform(ceiling / 2, ceiling)),
    )
