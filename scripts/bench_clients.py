"""The benchmark's clients: signed senders and a WebSocket subscriber (protocol 7)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp

from emulators.eventsub.messages import notification_body, signed_message
from scripts.stack import Stack


def signed_notifications(stack: Stack, login: str, count: int) -> list[tuple[str, dict, bytes]]:
    """``count`` distinct channel.update notifications: (message id, headers, body)."""
    messages = []
    for n in range(count):
        body = notification_body("channel.update", login, stack.callback, title=f"Title {n}",
                                 category="Benchmarks", broadcaster_id="424242")
        message_id = str(uuid.uuid4())
        headers, raw = signed_message(stack.secret, "notification", body, message_id)
        messages.append((message_id, headers, raw))
    return messages


def write_signed_requests(stack: Stack, path, count: int) -> None:
    """The file the wrk script reads: id, timestamp, signature, body per line."""
    with open(path, "w") as out:
        for message_id, headers, raw in signed_notifications(stack, "bench_ack", count):
            out.write("\t".join((message_id, headers["Twitch-Eventsub-Message-Timestamp"],
                                 headers["Twitch-Eventsub-Message-Signature"], raw.decode())))
            out.write("\n")


class Subscriber:
    """A WebSocket client subscribed to one channel, timing each event's arrival."""

    def __init__(self, stack: Stack, channel: str):
        self.url = f"ws://127.0.0.1:{stack.pusher_port}/app/local-key?protocol=7&client=bench&version=1"
        self.channel = channel
        self.arrivals: dict[str, list[float]] = {}
        self.changed = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, subscribed: asyncio.Event) -> None:
        """Connect, subscribe, then record arrivals until cancelled."""
        async with session.ws_connect(self.url) as socket:
            await socket.receive_json()
            await socket.send_json({"event": "pusher:subscribe", "data": {"channel": self.channel}})
            async for message in socket:
                frame = json.loads(message.data)
                if frame["event"] == "pusher_internal:subscription_succeeded":
                    subscribed.set()
                elif frame.get("channel") == self.channel and not frame["event"].startswith("pusher"):
                    event_id = json.loads(frame["data"])["id"]
                    self.arrivals.setdefault(event_id, []).append(time.monotonic())
                    self.changed.set()

    async def wait_for(self, ids: set[str], timeout: float) -> bool:
        """Wait until every id has arrived; False on time-out."""
        deadline = time.monotonic() + timeout
        while not ids <= self.arrivals.keys():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                return False
        return True


async def subscribed_session(stack: Stack, channel: str, connections: int):
    """An HTTP session and a subscriber that is already subscribed."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))
    subscriber = Subscriber(stack, channel)
    subscribed = asyncio.Event()
    task = asyncio.create_task(subscriber.run(session, subscribed))
    await asyncio.wait_for(subscribed.wait(), 10)
    return session, subscriber, task


async def post(session, stack: Stack, headers: dict, raw: bytes) -> int:
    """Send one notification; the HTTP status."""
    async with session.post(stack.callback, data=raw, headers=headers) as response:
        await response.read()
        return response.status


async def burst(stack: Stack, count: int, connections: int) -> None:
    """Phase 2: ``count`` distinct notifications as fast as possible."""
    messages = signed_notifications(stack, "bench_burst", count)
    session, subscriber, listener = await subscribed_session(stack, "bench_burst", connections)
    queue = list(reversed(messages))
    statuses: list[int] = []

    async def sender():
        while queue:
            _, headers, raw = queue.pop()
            statuses.append(await post(session, stack, headers, raw))

    print(f"\n== burst: {count} distinct notifications, {connections} connections")
    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(connections)))
    sent = time.monotonic() - started
    complete = await subscriber.wait_for({m[0] for m in messages}, timeout=300)
    last = max(max(times) for times in subscriber.arrivals.values()) - started
    accepted = sum(200 <= status < 300 for status in statuses)
    twice = sum(len(times) > 1 for times in subscriber.arrivals.values())
    print(f"acknowledged 2xx     {accepted}/{count} in {sent:.2f}s ({count / sent:.0f}/s)")
    print(f"arrived              {len(subscriber.arrivals)}/{count}"
          f"{'' if complete else ' (timed out)'}, more than once: {twice}")
    print(f"last arrival after   {last:.2f}s ({len(subscriber.arrivals) / last:.0f} events/s)")
    listener.cancel()
    await session.close()


async def steady(stack: Stack, rate: int, seconds: int) -> None:
    """Phase 3: a steady ``rate`` of notifications; send-to-arrival latency."""
    count = rate * seconds
    messages = signed_notifications(stack, "bench_steady", count)
    session, subscriber, listener = await subscribed_session(stack, "bench_steady", 64)
    sent_at: dict[str, float] = {}
    statuses: list[int] = []

    async def send(message_id, headers, raw):
        sent_at[message_id] = time.monotonic()
        statuses.append(await post(session, stack, headers, raw))

    print(f"\n== steady: {rate} notifications/s for {seconds}s")
    started = time.monotonic()
    tasks = []
    for n, message in enumerate(messages):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(send(*message)))
    await asyncio.gather(*tasks)
    await subscriber.wait_for(set(sent_at), timeout=60)
    latencies = sorted((subscriber.arrivals[i][0] - sent_at[i]) * 1000
                       for i in sent_at if i in subscriber.arrivals)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"acknowledged 2xx     {sum(200 <= s < 300 for s in statuses)}/{count}")
    print(f"arrived              {len(latencies)}/{count}")
    print(f"send-to-arrival      p50 {pick(0.5):.1f} ms  p90 {pick(0.9):.1f} ms  "
          f"p99 {pick(0.99):.1f} ms  max {latencies[-1]:.1f} ms")
    listener.cancel()
    await session.close()
