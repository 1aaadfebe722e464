"""The fault suite: nothing the web acknowledged may be lost, whatever breaks.

    python -m scripts.chaos [--broker redis,rabbitmq] [--rate 50] [--fault NAME ...]
                            [--log-dir DIR]

For each broker and each fault, a fresh stack (Redis keeping an append-only file,
the Pusher emulator, a link with 20 ms of round trip between the app and Pusher,
web, one worker) takes a steady stream of distinct signed channel.update
notifications over 20 broadcasters, --rate a second, sent from Python: 5 s
before the fault, during it, and 10 s after recovery. A notification answered
with a 5xx, or not at all, is sent again a second later, as Twitch does, for up
to a minute. One WebSocket client, connected to the emulator directly (the
faults never touch it), subscribes to every broadcaster's channel and records
each arrival by event id.

Faults (recovery is the moment the fault ends):
  worker-kill         SIGKILL the worker's process group, start a new worker 2 s
                      later (recovery: the new worker answers a ping)
  pusher-unreachable  stop the link for 10 s, so connections to Pusher are refused
                      (recovery: the link listens again)
  pusher-frozen       SIGSTOP the link for 8 s: requests to Pusher hang and time
                      out (recovery: SIGCONT)
  redis-restart       SIGKILL Redis, start it again on its append-only file 3 s
                      later (recovery: Redis answers)
  worker-stop         a deploy's worker step: of two workers, one told to stop
                      (SIGTERM) hands its shards over (recovery: it has exited)
  worker-add          scaling out: a second worker starts (recovery: it holds its
                      half of the shards)
  web-replace         a deploy's web step: a new web starts on the same port
                      (SO_REUSEPORT), then the old one is told to stop (SIGTERM)
                      (recovery: the old one has exited)
  redis-failover      Redis replicated (a primary, a replica, three sentinels;
                      scripts/redis_group.py): SIGKILL the primary (recovery: the
                      sentinels name the replica primary)
  redis-switchover    the same Redis: SENTINEL FAILOVER, a planned hand-over of
                      the primary's role (recovery: the sentinels name the replica)

Then it waits up to 60 s for every acknowledged notification to arrive and
prints a row per broker and fault: notifications sent, acknowledged (2xx),
delivered (acknowledged ones that arrived), repeats (ids that arrived more than
once), lost (acknowledged, never arrived), catch-up (seconds from recovery until
the last notification sent before recovery arrived), resends (answers that were
5xx or none), how many of those answered a send made after recovery, the longest
wait of an acknowledged notification from its first send to its arrival, and dead
letters.
It exits 1 if anything acknowledged was lost. RabbitMQ (127.0.0.1:5672, a fresh
vhost per stack) is skipped, with the reason, when it is not there. Logs go to
--log-dir, or to a temporary directory that is removed unless something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis

from scripts.bench_clients import post, signed_notifications, subscribed_session
from scripts.processes import wait_until
from scripts.redis_group import MASTER, primary_address, start_redis_group, wait_for_election
from scripts.stack import RABBITMQ_URL, RabbitMQUnavailable, Stack, rabbitmq_unavailable
from shared.intake import owner_key
from shared.store import DEAD_LETTERS

BROKER_URLS = {"redis": None, "rabbitmq": RABBITMQ_URL}  # None: the stack's own Redis
# Retries quick enough for a run of a few minutes. A Redis broker redelivers what a dead
# worker held after the visibility timeout, which must exceed twice the backoff cap.
SETTINGS = dict(PUBLISH_MAX_RETRIES=20, PUBLISH_RETRY_BACKOFF_MAX=2)
REDIS_BROKER_SETTINGS = dict(BROKER_VISIBILITY_TIMEOUT=10)
LINK_RTT_MS = 20
BROADCASTERS = 20
CONNECTIONS = 64
BEFORE_SECONDS, AFTER_SECONDS = 5, 10
ANSWER_TIMEOUT = 10  # seconds the sender waits for an answer
RESEND_PAUSE, RESEND_FOR = 1.0, 60.0  # a failed notification: again after 1 s, for 60 s
ARRIVAL_TIMEOUT = 60


# The faults. Each runs in a thread while the sender goes on, and returns at recovery.


def worker_kill(stack: Stack) -> None:
    """SIGKILL the worker's whole process group; 2 s later start a new worker."""
    stack.process(f"worker-{stack.workers}").kill()
    time.sleep(2)
    stack.start_worker()


def pusher_unreachable(stack: Stack) -> None:
    """Stop the link to Pusher for 10 s (connections refused), then start it again."""
    link = stack.process("pusher-link")
    link.stop()
    time.sleep(10)
    link.start()


def pusher_frozen(stack: Stack) -> None:
    """Freeze the link to Pusher for 8 s (requests hang), then let it go on."""
    link = stack.process("pusher-link")
    link.pause()
    try:
        time.sleep(8)
    finally:
        link.resume()


def redis_restart(stack: Stack) -> None:
    """SIGKILL Redis; 3 s later start it again on the same port and append-only file;
    return once it answers."""
    stack.process("redis").kill()
    time.sleep(3)
    stack.restart_redis()  # returns once Redis answers


def worker_stop(stack: Stack) -> None:
    """Tell the second of two workers to stop, as a deploy does; return once it has."""
    stack.process("worker-2").stop(timeout=30)


def worker_add(stack: Stack) -> None:
    """Start a second worker; return once it holds its half of the intake's shards."""
    started = time.monotonic()
    stack.start_worker()
    shards = int(stack.env.get("INTAKE_SHARDS", "8"))
    wait_until(
        lambda: held_by(stack, "worker2@") >= shards // 2,
        timeout=30,
        interval=0.1,
        message="the added worker never took its share of the shards",
    )
    seconds = time.monotonic() - started
    print(f"  the added worker held its {shards // 2} shards {seconds:.1f} s after its start")


def held_by(stack: Stack, prefix: str) -> int:
    """How many intake shards pumps of workers named ``prefix...`` hold."""
    client, shards = stack.redis(), int(stack.env.get("INTAKE_SHARDS", "8"))
    owners = client.mget([owner_key(shard) for shard in range(shards)])
    return sum(bool(owner and owner.startswith(prefix)) for owner in owners)


def web_replace(stack: Stack) -> None:
    """Start a new web on the web's port, then tell the old one to stop; return once it
    has."""
    old = stack.process("web")
    ready = old.log().count("Started worker")  # the old web's, all in web.log
    new = stack.start_web()  # its port is open already: the old web's
    wait_until(
        lambda: new.log().count("Started worker") >= 2 * ready,
        timeout=30,
        message="the new web's workers never started",
    )
    old.stop(timeout=30)


def redis_failover(stack: Stack) -> None:
    """SIGKILL the replicated Redis's primary; return once the sentinels name another."""
    old = primary_address(stack)
    stack.process("redis").kill()
    wait_for_election(stack, old)


def redis_switchover(stack: Stack) -> None:
    """Ask the sentinels for a planned failover; return once they name the new primary."""
    old = primary_address(stack)
    sentinels = stack.env["REDIS_SENTINELS"].split(",")
    port = int(sentinels[0].rsplit(":", 1)[1])
    redis.Redis(port=port).sentinel_failover(MASTER)
    wait_for_election(stack, old)


FAULTS = {
    "worker-kill": worker_kill,
    "pusher-unreachable": pusher_unreachable,
    "pusher-frozen": pusher_frozen,
    "redis-restart": redis_restart,
    "worker-stop": worker_stop,
    "worker-add": worker_add,
    "web-replace": web_replace,
    "redis-failover": redis_failover,
    "redis-switchover": redis_switchover,
}
REPLICATED = ("redis-failover", "redis-switchover")  # faults of a replicated Redis


def notifications(stack: Stack):
    """Distinct signed channel.update notifications without end, dealt to the
    broadcasters in turn: (message id, headers, body)."""
    while True:
        yield from signed_notifications(stack, BROADCASTERS, BROADCASTERS)


class Sender:
    """Sends notifications at a steady rate, each again after a pause while it gets a
    5xx or no answer (as Twitch does), and records which the web acknowledged."""

    def __init__(self, stack: Stack, session: aiohttp.ClientSession, rate: int):
        self.stack, self.session, self.rate = stack, session, rate
        self.sent_at: dict[str, float] = {}  # message id -> first send (monotonic)
        self.acknowledged: set[str] = set()
        self.refused: dict[int, int] = {}  # 4xx answers per status: never expected
        self.failures: dict[str, int] = {}  # failed sends by status or error
        self.failed_at: list[float] = []  # when each send answered 5xx or not at all went out

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; return when every notification is acknowledged,
        refused or given up."""
        started = time.monotonic()
        deliveries = []
        for n, message in enumerate(notifications(self.stack)):
            await asyncio.sleep(max(0.0, started + n / self.rate - time.monotonic()))
            if stop.is_set():
                break
            deliveries.append(asyncio.create_task(self.deliver(*message)))
        await asyncio.gather(*deliveries)

    async def deliver(self, message_id: str, headers: dict, raw: bytes) -> None:
        """Send one notification until it is answered below 500, or for RESEND_FOR s."""
        first = self.sent_at[message_id] = time.monotonic()
        while True:
            attempt, failure = time.monotonic(), ""
            try:
                status = await asyncio.wait_for(
                    post(self.session, self.stack, headers, raw), ANSWER_TIMEOUT
                )
            except (TimeoutError, aiohttp.ClientError) as error:
                status, failure = None, type(error).__name__
            if status is not None and status < 500:
                if 200 <= status < 300:
                    self.acknowledged.add(message_id)
                else:
                    self.refused[status] = self.refused.get(status, 0) + 1
                return
            self.failed_at.append(attempt)
            failure = failure or str(status)
            self.failures[failure] = self.failures.get(failure, 0) + 1
            if time.monotonic() + RESEND_PAUSE - first > RESEND_FOR:
                return
            await asyncio.sleep(RESEND_PAUSE)


@dataclass
class Row:
    """One broker and fault's figures (``error`` when the scenario itself failed)."""

    broker: str
    fault: str
    sent: int = 0
    acknowledged: int = 0
    delivered: int = 0
    repeats: int = 0
    lost: int = 0
    catch_up: float | None = None
    resends: int = 0
    failed_after_recovery: int = 0
    max_wait: float | None = None
    dead_letters: int = 0
    error: str = ""


async def scenario(stack: Stack, fault: str, rate: int, row: Row) -> None:
    """Send steadily, inject the fault, send on, wait for the arrivals; fill ``row``."""
    session, subscriber, listener = await subscribed_session(stack, BROADCASTERS, CONNECTIONS)
    sender = Sender(stack, session, rate)
    stop = asyncio.Event()
    sending = asyncio.create_task(sender.run(stop))
    try:
        await asyncio.sleep(BEFORE_SECONDS)
        await asyncio.to_thread(FAULTS[fault], stack)
        recovered = time.monotonic()
        await asyncio.sleep(AFTER_SECONDS)
        stop.set()
        await sending
        await subscriber.wait_for(sender.acknowledged, ARRIVAL_TIMEOUT)
    finally:
        sending.cancel()
        listener.cancel()
        await session.close()
    arrivals = subscriber.arrivals
    row.sent, row.acknowledged = len(sender.sent_at), len(sender.acknowledged)
    row.delivered = len(sender.acknowledged & arrivals.keys())
    row.repeats = sum(len(times) > 1 for times in arrivals.values())
    row.lost = row.acknowledged - row.delivered
    waited = [
        arrivals[i][0]
        for i in sender.acknowledged & arrivals.keys()
        if sender.sent_at[i] < recovered
    ]
    row.catch_up = max(waited) - recovered if waited else None
    row.resends = len(sender.failed_at)
    row.failed_after_recovery = sum(moment > recovered for moment in sender.failed_at)
    row.max_wait = max(
        (arrivals[i][0] - sender.sent_at[i] for i in sender.acknowledged & arrivals.keys()),
        default=None,
    )
    if sender.refused:
        print(f"  unexpected answers: {sender.refused}")
    if sender.failures:
        print(f"  failed sends, by status or error: {sender.failures}")


def run(broker: str, fault: str, rate: int, log_dir: Path) -> Row:
    """One fault on a fresh stack with ``broker``. Raises RabbitMQUnavailable when the
    stack cannot have a vhost."""
    log_dir.mkdir(parents=True)
    settings = {**SETTINGS, **(REDIS_BROKER_SETTINGS if broker == "redis" else {})}
    stack = Stack(log_dir, broker_url=BROKER_URLS[broker], **settings)
    row = Row(broker, fault)
    try:
        stack.start_broker()
        if fault in REPLICATED:
            start_redis_group(stack)
        else:
            stack.start_redis(persistent=True)
        stack.start_pusher()
        stack.start_pusher_link(LINK_RTT_MS)
        stack.start_web()
        stack.start_worker()
        if fault == "worker-stop":
            stack.start_worker()
        asyncio.run(scenario(stack, fault, rate, row))
        row.dead_letters = stack.redis().llen(DEAD_LETTERS)
    except RabbitMQUnavailable:
        raise
    except Exception as error:  # the suite goes on with the next fault
        traceback.print_exc()
        row.error = f"{type(error).__name__}: {error}"
    finally:
        stack.stop()
    return row


COLUMNS = (
    "broker",
    "fault",
    "sent",
    "acked",
    "delivered",
    "repeats",
    "lost",
    "catch-up s",
    "resends",
    "after rec.",
    "max wait s",
    "dead letters",
)
LAYOUT = "{:9} {:19} {:>6} {:>6} {:>9} {:>7} {:>5} {:>10} {:>7} {:>10} {:>10} {:>12}"


def print_row(row: Row) -> None:
    """One line of the table."""
    if row.error:
        print(f"{row.broker:9} {row.fault:19} FAILED: {row.error}")
        return
    catch_up = "-" if row.catch_up is None else f"{row.catch_up:.1f}"
    max_wait = "-" if row.max_wait is None else f"{row.max_wait:.2f}"
    print(
        LAYOUT.format(
            row.broker,
            row.fault,
            row.sent,
            row.acknowledged,
            row.delivered,
            row.repeats,
            row.lost,
            catch_up,
            row.resends,
            row.failed_after_recovery,
            max_wait,
            row.dead_letters,
        )
    )


def main(argv=None) -> None:
    """Every fault on every broker; the table; exit 1 on loss or a failed scenario."""
    args = parser().parse_args(argv)
    root = Path(args.log_dir or tempfile.mkdtemp(prefix="sev-chaos-"))
    print(
        f"{args.rate} notifications/s over {BROADCASTERS} broadcasters; "
        f"{BEFORE_SECONDS} s before each fault, {AFTER_SECONDS} s after recovery; logs in {root}"
    )
    started, rows = time.monotonic(), []
    for broker in args.broker:
        if broker == "rabbitmq" and (reason := rabbitmq_unavailable()):
            print(f"rabbitmq skipped: {reason}")
            continue
        for fault in args.fault:
            print(f"== {broker}: {fault}", flush=True)
            try:
                rows.append(run(broker, fault, args.rate, root / f"{broker}-{fault}"))
            except RabbitMQUnavailable as error:
                print(f"rabbitmq skipped: no vhost for the stack: {error}")
                break
            print_row(rows[-1])
    print("\n" + LAYOUT.format(*COLUMNS))
    for row in rows:
        print_row(row)
    print(f"\n{time.monotonic() - started:.0f} s in all")
    failed = any(row.lost or row.error for row in rows)
    if failed:
        print(f"FAILED: acknowledged notifications lost, or a scenario failed; logs in {root}")
    elif not args.log_dir:
        shutil.rmtree(root, ignore_errors=True)
    raise SystemExit(1 if failed else 0)


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = argparse.ArgumentParser(
        prog="python -m scripts.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument(
        "--broker",
        type=brokers,
        default=list(BROKER_URLS),
        help="comma-separated Celery brokers (default redis,rabbitmq)",
    )
    cli.add_argument("--rate", type=int, default=50, help="notifications a second (default 50)")
    cli.add_argument(
        "--fault",
        nargs="+",
        choices=list(FAULTS),
        default=list(FAULTS),
        metavar="NAME",
        help=f"faults to inject, in this order: {', '.join(FAULTS)} (default all)",
    )
    cli.add_argument("--log-dir", help="keep every process's log here (one folder a scenario)")
    return cli


def brokers(text: str) -> list[str]:
    """``--broker``: comma-separated names out of redis, rabbitmq."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or set(names) - BROKER_URLS.keys():
        raise argparse.ArgumentTypeError(f"brokers are redis and rabbitmq, not {text!r}")
    return names


if __name__ == "__main__":
    main()
