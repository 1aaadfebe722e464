"""The benchmark's clients: signed notifications, wrk replaying them, a Python sender at a
steady rate, and a WebSocket subscriber (protocol 7) timing each event's arrival."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from emulators.eventsub.messages import notification_body, signed_headers, signed_message
from scripts.stack import Stack, channel_subscription
from shared.events import channel_name
from shared.eventsub import MESSAGE_ID, format_eventsub_timestamp

WRK_SCRIPT = Path(__file__).with_name("bench_webhooks.lua")
FIRST_BROADCASTER_ID = 700_000
ARRIVAL_TIMEOUT = 60  # seconds to wait for the last arrivals after the last send
SPREAD_NOTE = (
    "Real top-of-the-hour waves are many streamers at once. One broadcaster's events\n"
    "are published strictly in order, at most 10 per round trip to Pusher, so the\n"
    "load is spread over broadcasters (--broadcasters 1 shows one broadcaster alone)."
)


def broadcasters(count: int) -> list[tuple[str, str]]:
    """The benchmark's broadcasters: (user id, login) each."""
    return [(str(FIRST_BROADCASTER_ID + n), f"bench_b{n}") for n in range(count)]


def signed_notifications(
    stack: Stack, count: int, spread: int = 1
) -> list[tuple[str, dict, bytes]]:
    """``count`` distinct channel.update notifications dealt in turn to ``spread``
    broadcasters: (message id, headers, body)."""
    return list(notification_stream(stack, count, spread))


def notification_stream(
    stack: Stack, count: int, spread: int = 1
) -> Iterator[tuple[str, dict, bytes]]:
    """The notifications of :func:`signed_notifications`, each made when it is asked
    for (a long steady run never holds them all)."""
    people = broadcasters(spread)
    for n in range(count):
        broadcaster_id, login = people[n % spread]
        body = notification_body(
            "channel.update",
            login,
            stack.callback,
            title=f"Title {n}",
            category="Benchmarks",
            broadcaster_id=broadcaster_id,
        )
        message_id = str(uuid.uuid4())
        headers, raw = signed_message(stack.secret, "notification", body, message_id)
        yield message_id, headers, raw


def signed_now(stack: Stack, headers: dict, raw: bytes) -> dict:
    """``headers`` signed again with the present moment as Twitch's message time, as
    Twitch stamps a message when it sends it (the worker's lag runs from that time)."""
    timestamp = format_eventsub_timestamp(datetime.now(UTC))
    return {
        **headers,
        **signed_headers(stack.secret, headers[MESSAGE_ID], timestamp, "notification", raw),
    }


def write_signed_requests(path: Path, messages: list[tuple[str, dict, bytes]]) -> None:
    """The file the wrk script reads: id, timestamp, signature, body per line."""
    with open(path, "w") as out:
        for message_id, headers, raw in messages:
            out.write(
                "\t".join(
                    (
                        message_id,
                        headers["Twitch-Eventsub-Message-Timestamp"],
                        headers["Twitch-Eventsub-Message-Signature"],
                        raw.decode(),
                    )
                )
            )
            out.write("\n")


class Subscriber:
    """A WebSocket client subscribed to several channels on one socket, timing each
    event's arrival by event id, and answering Pusher's pings (a client silent for the
    activity timeout, 120 s, is pinged and dropped without a pong)."""

    def __init__(self, stack: Stack, logins: list[str]):
        self.url = (
            f"ws://127.0.0.1:{stack.pusher_port}/app/local-key?protocol=7&client=bench&version=1"
        )
        self.logins = logins
        self.channels = {channel_name(login) for login in logins}
        self.arrivals: dict[str, list[float]] = {}
        self.changed = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, subscribed: asyncio.Event) -> None:
        """Connect, subscribe to every channel, then record arrivals until cancelled."""
        async with session.ws_connect(self.url) as socket:
            established = await socket.receive_json()
            socket_id = json.loads(established["data"])["socket_id"]
            for login in self.logins:
                await socket.send_json(
                    {"event": "pusher:subscribe", "data": channel_subscription(socket_id, login)}
                )
            pending = set(self.channels)
            async for message in socket:
                arrived = time.monotonic()
                frame = json.loads(message.data)
                if frame["event"] == "pusher:ping":  # else Pusher drops a silent client
                    await socket.send_json({"event": "pusher:pong", "data": {}})
                elif frame["event"] == "pusher_internal:subscription_succeeded":
                    pending.discard(frame.get("channel"))
                    if not pending:
                        subscribed.set()
                elif frame.get("channel") in self.channels and not frame["event"].startswith(
                    "pusher"
                ):
                    event_id = json.loads(frame["data"])["id"]
                    self.arrivals.setdefault(event_id, []).append(arrived)
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
            except TimeoutError:
                return False
        return True

    def tally(self, ids: set[str]) -> tuple[int, int, float | None]:
        """Of ``ids``: how many arrived, how many arrived more than once (repeats), and
        the last first arrival (None if none arrived)."""
        arrived = [self.arrivals[i] for i in ids if i in self.arrivals]
        repeats = sum(len(times) - 1 for times in arrived)
        return len(arrived), repeats, max((times[0] for times in arrived), default=None)


async def subscribed_session(stack: Stack, spread: int, connections: int):
    """An HTTP session and a subscriber, already subscribed to every benchmark
    broadcaster's channel."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))
    subscriber = Subscriber(stack, [login for _, login in broadcasters(spread)])
    subscribed = asyncio.Event()
    task = asyncio.create_task(subscriber.run(session, subscribed))
    await asyncio.wait_for(subscribed.wait(), 10)
    return session, subscriber, task


async def post(session, stack: Stack, headers: dict, raw: bytes) -> int:
    """Send one notification; the HTTP status."""
    async with session.post(stack.callback, data=raw, headers=headers) as response:
        await response.read()
        return response.status


@dataclass
class Replay:
    """What wrk did with a file sent once: when it started and finished sending (monotonic
    clock), the answers it counted per status, and its own report."""

    first_send: float
    last_answer: float | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    report: str = ""

    @property
    def answered(self) -> int:
        """Answers counted, whatever their status."""
        return sum(self.statuses.values())

    @property
    def accepted(self) -> int:
        """2xx answers."""
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)


async def replay_once(url: str, requests_file: Path, connections: int, limit: int) -> Replay:
    """wrk (one thread, ``connections`` connections) sends each request of the file once.

    The wrk script marks its first send and its last answer on its output; on the last
    answer wrk is interrupted for its report. ``limit`` (seconds) bounds the run when
    answers go missing (then ``last_answer`` stays None).
    """
    replay = Replay(first_send=time.monotonic())
    wrk = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{limit}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        str(requests_file),
        "once",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    interrupting = None
    async for raw in wrk.stdout:
        line = raw.decode()
        if line.startswith("bench-once first"):
            replay.first_send = time.monotonic()
        elif line.startswith("bench-once done"):
            replay.last_answer = time.monotonic()
            replay.statuses = {
                int(status): int(count)
                for status, count in (part.split("=") for part in line.split()[2:])
            }
            interrupting = asyncio.create_task(interrupt(wrk))
        else:
            replay.report += line
    await wrk.wait()
    if interrupting:
        interrupting.cancel()
    return replay


async def interrupt(process: asyncio.subprocess.Process) -> None:
    """SIGINT ``process`` every second until it ends (wrk ignores the first few ms)."""
    while process.returncode is None:
        process.send_signal(signal.SIGINT)
        await asyncio.sleep(1)


@dataclass
class BurstFigures:
    """What a burst came to: acknowledgements/s (None when wrk missed answers),
    end-to-end events/s (None when nothing arrived), distinct arrivals and repeats."""

    acks_per_second: float | None
    events_per_second: float | None
    arrived: int
    repeats: int


@dataclass
class SteadyFigures:
    """What a steady phase came to: send-to-arrival p50 and p99 in ms (None when nothing
    arrived), arrivals and repeats."""

    p50_ms: float | None
    p99_ms: float | None
    arrived: int
    repeats: int


async def burst(stack: Stack, count: int, connections: int, spread: int, tmp: Path) -> BurstFigures:
    """Burst: ``count`` distinct notifications replayed by wrk as fast as the web
    acknowledges them, each counted on arrival at one subscriber of every channel."""
    messages = signed_notifications(stack, count, spread)
    requests_file = tmp / f"burst-{uuid.uuid4().hex}.tsv"
    write_signed_requests(requests_file, messages)
    session, subscriber, listener = await subscribed_session(stack, spread, connections)
    print(
        f"\n== burst: {count} distinct channel.update notifications over {spread} "
        f"broadcaster{'s' if spread > 1 else ''},\n   replayed by wrk once each "
        f"(1 thread, {connections} connections); one WebSocket subscriber of every channel"
    )
    print("   " + SPREAD_NOTE.replace("\n", "\n   "))
    try:
        replay = await replay_once(
            stack.callback, requests_file, connections, limit=ARRIVAL_TIMEOUT + count // 100
        )
        ids = {message[0] for message in messages}
        complete = await subscriber.wait_for(ids, timeout=ARRIVAL_TIMEOUT)
        return print_burst(count, replay, subscriber.tally(ids), complete)
    finally:
        listener.cancel()
        await session.close()


def print_burst(
    count: int, replay: Replay, tally: tuple[int, int, float | None], complete: bool
) -> BurstFigures:
    """Print the burst's figures; the figures."""
    arrived, repeats, last_arrival = tally
    figures = BurstFigures(None, None, arrived, repeats)
    statuses = " ".join(f"{status}={n}" for status, n in sorted(replay.statuses.items()))
    if replay.last_answer is None:
        print(f"wrk did not get every answer; its report:\n{replay.report.rstrip()}")
    else:
        acked = replay.last_answer - replay.first_send
        figures.acks_per_second = replay.accepted / acked
        print(f"wrk completed                 {replay.answered}/{count} ({statuses})")
        for errors in re.findall(r"Socket errors:.*", replay.report):
            print(f"  wrk: {errors}")
        print(
            f"acknowledged 2xx              {replay.accepted}/{count} in {acked:.2f}s "
            f"({replay.accepted / acked:.0f}/s)"
        )
    print(
        f"arrived (distinct)            {arrived}/{count}"
        f"{'' if complete else ' (timed out)'}, repeats {repeats}"
    )
    if last_arrival is None:
        return figures
    end_to_end = last_arrival - replay.first_send
    figures.events_per_second = arrived / end_to_end
    print(
        f"first send -> last arrival    {end_to_end:.2f}s "
        f"(end to end {arrived / end_to_end:.0f} events/s)"
    )
    if replay.last_answer is not None:
        print(f"last arrival after last ack   {last_arrival - replay.last_answer:.2f}s")
    return figures


async def steady(stack: Stack, rate: int, seconds: int, spread: int) -> SteadyFigures:
    """Steady: ``rate`` notifications/s over ``spread`` broadcasters, from Python, each
    made as it is sent; send-to-arrival latency at one subscriber of every channel."""
    count = rate * seconds
    session, subscriber, listener = await subscribed_session(stack, spread, 64)
    sent_at: dict[str, float] = {}
    accepted = 0

    async def send(message_id, headers, raw):
        nonlocal accepted
        sent_at[message_id] = time.monotonic()
        status = await post(session, stack, signed_now(stack, headers, raw), raw)
        accepted += 200 <= status < 300

    print(
        f"\n== steady: {rate} notifications/s for {seconds}s over {spread} "
        f"broadcaster{'s' if spread > 1 else ''}, sent from Python"
    )
    try:
        started = time.monotonic()
        in_flight: set[asyncio.Task] = set()
        for n, message in enumerate(notification_stream(stack, count, spread)):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            task = asyncio.create_task(send(*message))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)
        await subscriber.wait_for(set(sent_at), timeout=ARRIVAL_TIMEOUT)
        return print_steady(count, accepted, sent_at, subscriber)
    finally:
        listener.cancel()
        await session.close()


def print_steady(
    count: int, accepted: int, sent_at: dict[str, float], subscriber: Subscriber
) -> SteadyFigures:
    """Print the steady phase's figures; the figures."""
    latencies = sorted(
        (subscriber.arrivals[i][0] - sent_at[i]) * 1000 for i in sent_at if i in subscriber.arrivals
    )
    arrived, repeats, _ = subscriber.tally(set(sent_at))
    print(f"acknowledged 2xx              {accepted}/{count}")
    print(f"arrived                       {arrived}/{count}, repeats {repeats}")
    if not latencies:
        return SteadyFigures(None, None, arrived, repeats)
    p50, p90, p99 = (percentile(latencies, q) for q in (0.5, 0.9, 0.99))
    print(
        f"send-to-arrival               p50 {p50:.1f} ms  p90 {p90:.1f} ms  "
        f"p99 {p99:.1f} ms  max {latencies[-1]:.1f} ms"
    )
    return SteadyFigures(p50, p99, arrived, repeats)


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted, non-empty ``ordered``."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
