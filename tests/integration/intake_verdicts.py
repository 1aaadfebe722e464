"""One fixed set of requests to the webhook callback and what the web answers to each.

``cases()`` builds the set: valid EventSub notifications, revocations and challenges,
bad and missing signatures and headers, stale and malformed timestamps, oversize and
chunked bodies, WebSub notifications and the hub's verifications. ``replay()`` sends
them one by one to a running web and notes, for each, the answer (status, content type,
body or error message) and the intake entries it wrote. ``intake_verdicts.json`` beside
this file holds what the web answered when the set was recorded:

    python -m tests.integration.intake_verdicts record

starts Redis and the web (scripts/stack.py) and writes the file anew. The integration
test replays the set against today's web and requires the same verdicts, so a change
of how the web is served cannot change what it accepts.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from emulators.eventsub.messages import signed_headers
from shared.eventsub import eventsub_signature, format_eventsub_timestamp
from shared.intake import intake_key
from shared.websub import remember_request, secret_key, topic_for

RECORDED = Path(__file__).with_name("intake_verdicts.json")
NOW = "<now>"  # fresh timestamps vary between runs: recorded as this placeholder
API = "<api>"  # so does the Twitch API URL of a test stack (its port)
LIMIT = 64 * 1024
BROADCASTER = "1001"
WEBSUB_SECRET = "websub-secret-of-the-verdicts"
SHARDS = 8


@dataclass
class Case:
    """One request: ``chunked`` sends the body without a Content-Length."""

    name: str
    method: str
    target: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = False


def notification(subscription_type: str = "channel.update", **event) -> bytes:
    """A notification body of a fixed subscription for BROADCASTER."""
    return json.dumps(
        {
            "subscription": {
                "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
                "type": subscription_type,
                "version": "2" if subscription_type == "channel.update" else "1",
                "status": "enabled",
                "cost": 0,
                "condition": {"broadcaster_user_id": BROADCASTER},
                "transport": {"method": "webhook", "callback": "https://example.org/api/callback"},
                "created_at": "2026-01-01T00:00:00.000000000Z",
            },
            "event": {
                "broadcaster_user_id": BROADCASTER,
                "broadcaster_user_login": "cool_user",
                "broadcaster_user_name": "Cool_User",
                **event,
            },
        }
    ).encode()


def eventsub(
    name: str,
    message_type: str,
    body: bytes,
    *,
    secret: str,
    timestamp: str,
    message_id: str | None = None,
    subscription_type: str = "channel.update",
    drop: tuple[str, ...] = (),
    change: dict | None = None,
    chunked: bool = False,
) -> Case:
    """An EventSub POST signed with ``secret``; ``drop`` removes headers and ``change``
    replaces some after signing."""
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secret, message_id or f"id-{name}", timestamp, message_type, body),
        "Twitch-Eventsub-Subscription-Type": subscription_type,
        "Twitch-Eventsub-Subscription-Version": "2",
        "Twitch-Eventsub-Message-Retry": "0",
    }
    headers.update(change or {})
    for header in drop:
        headers.pop(header)
    return Case(name, "POST", "/api/callback", headers, body, chunked)


def cases(secret: str, api_url: str, now: datetime) -> list[Case]:
    """The set, for a web whose webhook secret is ``secret`` and Twitch API ``api_url``,
    with ``now`` as the present moment."""
    fresh = format_eventsub_timestamp(now)
    update = notification(title="Verdicts", category_name="Science")
    signed = {"secret": secret, "timestamp": fresh}

    def resigned(name: str, timestamp: str, body: bytes = update) -> Case:
        case = eventsub(name, "notification", body, secret=secret, timestamp=timestamp)
        case.headers["Twitch-Eventsub-Message-Signature"] = eventsub_signature(
            secret, f"id-{name}", timestamp, body
        )
        return case

    padded = update + b" " * (LIMIT - len(update))
    revoked = json.loads(notification())
    revoked.pop("event")
    revoked["subscription"]["status"] = "user_removed"
    topic = topic_for(api_url, BROADCASTER)
    websub_body = b'{"data":[]}'
    websub_headers = {
        "Content-Type": "application/json",
        "Link": f'<{topic}>; rel="self"',
        "Twitch-Notification-Id": "websub-1",
        "Twitch-Notification-Timestamp": fresh,
        "X-Hub-Signature": "sha256="
        + hmac.new(WEBSUB_SECRET.encode(), websub_body, hashlib.sha256).hexdigest(),
    }
    hub = f"/api/callback?hub.mode=subscribe&hub.topic={topic}&hub.challenge=hub-challenge"
    return [
        eventsub("notification", "notification", update, **signed),
        eventsub(
            "online",
            "notification",
            notification("stream.online", id="5001", type="live", started_at=fresh),
            subscription_type="stream.online",
            **signed,
        ),
        resigned("nine digits", fresh[:19] + ".123456789Z"),
        resigned("three digits", fresh[:19] + ".123Z"),
        eventsub("revocation", "revocation", json.dumps(revoked).encode(), **signed),
        eventsub(
            "challenge",
            "webhook_callback_verification",
            json.dumps({"challenge": "pogchamp-kappa", "subscription": {}}).encode(),
            **signed,
        ),
        eventsub(
            "challenge missing", "webhook_callback_verification", b'{"subscription": {}}', **signed
        ),
        eventsub(
            "challenge a number", "webhook_callback_verification", b'{"challenge": 7}', **signed
        ),
        eventsub("challenge not json", "webhook_callback_verification", b"challenge", **signed),
        eventsub(
            "challenge nested",
            "webhook_callback_verification",
            b"[" * 20_000 + b"]" * 20_000,
            **signed,
        ),
        eventsub(
            "wrong signature",
            "notification",
            update,
            change={"Twitch-Eventsub-Message-Signature": "sha256=" + "0" * 64},
            **signed,
        ),
        eventsub(
            "signature not hex",
            "notification",
            update,
            change={"Twitch-Eventsub-Message-Signature": "sha256=zz"},
            **signed,
        ),
        eventsub(
            "missing signature",
            "notification",
            update,
            drop=("Twitch-Eventsub-Message-Signature",),
            **signed,
        ),
        Case(
            "body changed",
            "POST",
            "/api/callback",
            eventsub("body changed", "notification", update, **signed).headers,
            update + b" ",
        ),
        eventsub(
            "missing id", "notification", update, drop=("Twitch-Eventsub-Message-Id",), **signed
        ),
        eventsub(
            "missing timestamp",
            "notification",
            update,
            drop=("Twitch-Eventsub-Message-Timestamp",),
            **signed,
        ),
        eventsub(
            "missing type", "notification", update, drop=("Twitch-Eventsub-Message-Type",), **signed
        ),
        eventsub("unknown type", "surprise", update, **signed),
        resigned("stale", format_eventsub_timestamp(now - timedelta(minutes=11))),
        resigned("from the future", format_eventsub_timestamp(now + timedelta(minutes=11))),
        resigned("basic iso", now.strftime("%Y%m%dT%H%M%SZ")),
        resigned("space for T", now.strftime("%Y-%m-%d %H:%M:%SZ")),
        resigned("no zone", now.strftime("%Y-%m-%dT%H:%M:%S")),
        resigned("exactly 64 KiB", fresh, padded),
        resigned("one byte over", fresh, padded + b" "),
        eventsub("chunked", "notification", update, chunked=True, **signed),
        eventsub("chunked 64 KiB", "notification", padded, chunked=True, **signed),
        eventsub("chunked over", "notification", padded + b" " * 100_000, chunked=True, **signed),
        eventsub("not utf-8", "notification", b'{"title": "\xff\xfe"}', **signed),
        eventsub("no broadcaster", "notification", b'{"subscription": {}}', **signed),
        eventsub("empty body", "notification", b"", **signed),
        Case("put", "PUT", "/api/callback", {"Content-Type": "application/json"}, update),
        Case("websub notification", "POST", "/api/callback", websub_headers, websub_body),
        Case(
            "websub wrong signature",
            "POST",
            "/api/callback",
            {**websub_headers, "X-Hub-Signature": "sha256=" + "0" * 64},
            websub_body,
        ),
        Case(
            "websub unknown topic",
            "POST",
            "/api/callback",
            {**websub_headers, "Link": f'<{topic_for(api_url, "999")}>; rel="self"'},
            websub_body,
        ),
        Case(
            "websub without id",
            "POST",
            "/api/callback",
            {k: v for k, v in websub_headers.items() if k != "Twitch-Notification-Id"},
            websub_body,
        ),
        Case(
            "websub chunked over",
            "POST",
            "/api/callback",
            websub_headers,
            websub_body + b" " * (LIMIT + 100),
            chunked=True,
        ),
        Case("hub verification", "GET", hub + "&hub.lease_seconds=600"),
        Case("hub verification again", "GET", hub + "&hub.lease_seconds=600"),
        Case("hub bad mode", "GET", f"/api/callback?hub.mode=maybe&hub.topic={topic}"),
        Case("hub repeated", "GET", hub + "&hub.lease_seconds=1&hub.lease_seconds=2"),
    ]


def prepare(client: redis.Redis, api_url: str) -> None:
    """The state the WebSub cases expect: a verified subscription to BROADCASTER's topic
    (its secret) and a pending subscription request for the hub's verification."""
    topic = topic_for(api_url, BROADCASTER)
    client.set(secret_key(topic), WEBSUB_SECRET)
    remember_request(client, "subscribe", topic, WEBSUB_SECRET, 600)


def send(port: int, case: Case) -> tuple[int, str, bytes]:
    """Send one case to 127.0.0.1:``port`` on a new connection: status, content type, body."""
    if case.chunked:
        return send_chunked(port, case)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(case.method, case.target, body=case.body, headers=case.headers)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()
    finally:
        connection.close()


def send_chunked(port: int, case: Case) -> tuple[int, str, bytes]:
    """Send a case's body with Transfer-Encoding: chunked, in 8 KiB chunks, on a socket."""
    head = [f"{case.method} {case.target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += ["Transfer-Encoding: chunked", "Connection: close"]
    head += [f"{name}: {value}" for name, value in case.headers.items()]
    payload = "\r\n".join(head).encode() + b"\r\n\r\n"
    for start in range(0, len(case.body), 8192):
        part = case.body[start : start + 8192]
        payload += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    payload += b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was read
        answer = b""
        while True:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    response = http.client.HTTPResponse(FakeSocket(answer))  # type: ignore[arg-type]
    response.begin()
    return response.status, response.getheader("Content-Type", ""), response.read()


class FakeSocket:
    """Bytes already read, as ``http.client`` reads a socket."""

    def __init__(self, data: bytes):
        self.data = data

    def makefile(self, *args, **kwargs):
        return io.BytesIO(self.data)


def verdict(status: int, content_type: str, body: bytes, entries: list[dict]) -> dict:
    """What one answer says: status, media type (of a body), the error or the text, the
    entries."""
    media_type = content_type.split(";")[0].strip() if body else ""
    said: object = None
    if media_type == "application/json" and body:
        said = json.loads(body).get("error")
    elif body:
        said = body.decode("utf-8", "replace")
    return {"status": status, "type": media_type, "said": said, "entries": entries}


def new_entries(client: redis.Redis, seen: set[str], fresh: str, api_url: str) -> list[dict]:
    """Intake entries not seen before: their stream, kind, headers and body, with the
    fresh timestamp as NOW and the Twitch API URL as API."""
    entries = []
    for shard in range(SHARDS):
        for entry_id, fields in client.xrange(intake_key(shard)):
            if entry_id in seen:
                continue
            seen.add(entry_id)
            entries.append(
                {
                    "stream": intake_key(shard),
                    "kind": fields["kind"],
                    "headers": json.loads(normal(fields["headers"], fresh, api_url)),
                    "body": normal(fields["body"], fresh, api_url),
                }
            )
    return entries


def normal(text: str, fresh: str, api_url: str) -> str:
    """``text`` with the run's own values as placeholders: the fresh timestamp (and its
    seconds, which the 3- and 9-digit cases share) as NOW, the Twitch API URL as API."""
    return text.replace(fresh, NOW).replace(fresh[:19], NOW).replace(api_url, API)


def replay(port: int, client: redis.Redis, secret: str, api_url: str) -> dict[str, dict]:
    """Send every case to the web at ``port`` (its Redis reached by ``client``): the
    verdict of each, by name."""
    prepare(client, api_url)
    now = datetime.now(UTC)
    fresh = format_eventsub_timestamp(now)
    seen: set[str] = set()
    new_entries(client, seen, fresh, api_url)
    verdicts = {}
    for case in cases(secret, api_url, now):
        status, content_type, body = send(port, case)
        verdicts[case.name] = verdict(
            status, content_type, body, new_entries(client, seen, fresh, api_url)
        )
    return verdicts


def record() -> None:
    """Start Redis and the web, replay the set and write RECORDED."""
    from scripts.stack import Stack

    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        try:
            stack.start_redis()
            stack.start_web("--workers", "1")
            verdicts = replay(
                stack.web_port, stack.redis(), stack.secret, stack.env["TWITCH_API_URL"]
            )
        finally:
            stack.stop(graceful=False)
    RECORDED.write_text(json.dumps(verdicts, indent=1, sort_keys=True) + "\n")
    print(f"{len(verdicts)} verdicts written to {RECORDED}")


if __name__ == "__main__" and sys.argv[1:] == ["record"]:
    record()
