"""Helpers for browser tests against the whole product (the web, Celery worker, Redis and
both emulators as real processes): start the stack, log a viewer in and watch a streamer,
drive the Twitch emulator, and listen on a streamer's channel as a second Pusher client.
"""

from __future__ import annotations

import json
import sys
import threading
from contextlib import contextmanager

import pusher
import requests

from scripts.stack import Stack
from shared.events import channel_name
from shared.eventsub import SUBSCRIPTION_VERSIONS
from shared.leases import lease_for_login
from tests.e2e.pages import connected, log_in, page_wait_until
from tests.support import pusher_socket

EVENT_TYPES = ("stream.online", "stream.offline", "channel.update", "channel.raid")


@contextmanager
def running_stack(log_dir, web_options=(), worker_options=(), **settings):
    """Redis, both emulators, web and one worker, with ``settings`` (e.g. the VAPID keys)
    in their environment; their logs go to stderr on the way out."""
    stack = Stack(log_dir, **settings)
    try:
        stack.start_redis()
        stack.start_twitch()
        stack.start_pusher()
        stack.start_web(*web_options)
        stack.start_worker(*worker_options)
        yield stack
    finally:
        stack.stop()
        for process in stack.processes:
            sys.stderr.write(f"----- {process.name} -----\n{process.log()[-6000:]}\n")


def subscriptions_enabled(stack: Stack, login: str) -> bool:
    """True once the app holds every subscription of the streamer, all enabled at Twitch."""
    lease = lease_for_login(stack.redis(), login)
    return (
        bool(lease)
        and len(lease["subscriptions"]) == len(SUBSCRIPTION_VERSIONS)
        and all(held["status"] == "enabled" for held in lease["subscriptions"].values())
    )


def watch_streamer(page, stack: Stack, login: str) -> None:
    """Log in, watch ``login`` and wait until its events will reach the page."""
    log_in(page, f"http://localhost:{stack.web_port}")
    page.get_by_label("Streamer").fill(login)
    page.get_by_role("button", name="Stream").click()
    connected(page, login)
    page_wait_until(
        page,
        lambda: subscriptions_enabled(stack, login),
        timeout=30,
        message=f"watching {login} never held its enabled subscriptions",
    )


def twitch_control(stack: Stack, name: str, **body) -> dict:
    """``POST /_emulator/<name>`` at the Twitch emulator; its JSON answer."""
    answer = requests.post(
        f"http://127.0.0.1:{stack.twitch_port}/_emulator/{name}", json=body, timeout=10
    )
    assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text}"
    return answer.json()


def stack_pusher(stack: Stack) -> pusher.Pusher:
    """The official server library, pointed at the stack's Pusher emulator."""
    return pusher.Pusher(
        app_id="1",
        key="local-key",
        secret="local-secret",
        host="127.0.0.1",
        port=stack.pusher_port,
        ssl=False,
    )


class ChannelListener:
    """A second Pusher client (pysher) on a streamer's channel, signing its own subscription
    with the app's secret: everything Pusher sends there, in order.

    It sees what the emulator broadcast, repeats included, which the page hides.
    """

    def __init__(self, stack: Stack, login: str):
        self.events: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        channel = channel_name(login)
        self.client = pusher_socket(stack.pusher_port)
        subscribed = threading.Event()
        for _ in range(3):  # pysher drops an answer that beats its own bookkeeping: ask again
            subscription = self.client.subscribe(channel)
            subscription.bind("pusher_internal:subscription_succeeded", lambda _: subscribed.set())
            for name in EVENT_TYPES:
                subscription.bind(name, lambda data, name=name: self._add(name, data))
            if subscribed.wait(4):
                break
        assert subscribed.is_set(), f"the listener never joined {channel}"

    def _add(self, name: str, data: str) -> None:
        with self.lock:
            self.events.append((name, json.loads(data)))

    def received(self, predicate=lambda name, event: True) -> list[tuple[str, dict]]:
        """The events received so far that ``predicate(name, event)`` accepts."""
        with self.lock:
            return [(name, event) for name, event in self.events if predicate(name, event)]

    def stop(self) -> None:
        self.client.disconnect(timeout=2)
