"""Who may join a streamer's private Pusher channel, signed by /api/pusher/auth."""

import dataclasses
import hashlib
import hmac
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.leases import new_lease, save_lease
from tests.web.support import FROM_OUR_PAGE, watch
from web import create_app
from web.viewer.channel_auth import ASKED_FOR_SECONDS, ask_for_streamer, asked_key, may_join

pytestmark = pytest.mark.timeout(60)
SOCKET = "1234.5678"


@pytest.fixture
def app(twitch_settings, redis_client):
    app = create_app(dataclasses.replace(twitch_settings, viewer_streamer_limit=2))
    app.config.update(TESTING=True)
    return app


def authorize(client, channel, socket_id=SOCKET, headers=FROM_OUR_PAGE):
    return client.post(
        "/api/pusher/auth", data={"socket_id": socket_id, "channel_name": channel}, headers=headers
    )


def expected_auth(settings, channel, socket_id=SOCKET):
    digest = hmac.new(
        settings.pusher_secret.encode(), f"{socket_id}:{channel}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{settings.pusher_key}:{digest}"


def test_a_logged_out_socket_is_refused(client, twitch_emulator):
    response = authorize(client, "private-cool_user")
    assert response.status_code == 401 and "auth" not in response.json


def test_a_viewer_joins_only_the_channels_it_asked_for(viewer, twitch_settings):
    assert authorize(viewer, "private-cool_user").status_code == 403
    answer = watch(viewer, "Cool_User").json
    assert answer["channel"] == "private-cool_user"
    response = authorize(viewer, answer["channel"])
    assert response.status_code == 200
    assert response.json == {"auth": expected_auth(twitch_settings, "private-cool_user")}
    assert authorize(viewer, "private-speedy_sam").status_code == 403


def test_the_request_must_come_from_our_pages(viewer):
    watch(viewer, "cool_user")
    for headers in ({}, {"Origin": "https://evil.example"}):
        assert authorize(viewer, "private-cool_user", headers=headers).status_code == 403


@pytest.mark.parametrize(
    "socket_id, channel",
    [
        ("1234.5678", "cool_user"),  # the public channel: never signed
        ("1234.5678", "presence-cool_user"),
        ("1234.5678", "private-cool user"),
        ("1234", "private-cool_user"),
        ("1234.5678:private-other", "private-cool_user"),
        ("١٢٣٤.٥٦٧٨", "private-cool_user"),  # digits, but not ASCII ones
        ("", ""),
    ],
)
def test_malformed_requests_are_400(viewer, socket_id, channel):
    watch(viewer, "cool_user")
    assert authorize(viewer, channel, socket_id=socket_id).status_code == 400


@pytest.mark.parametrize(
    "body", [b'{"socket_id": "1234.5678", "channel_name": "private-cool_user"}', b"[" * 65_536]
)
def test_a_json_body_is_400_the_endpoint_reads_a_form(viewer, body):
    watch(viewer, "cool_user")
    response = viewer.post(
        "/api/pusher/auth", data=body, headers=FROM_OUR_PAGE, content_type="application/json"
    )
    assert response.status_code == 400


def test_a_followed_channel_joins_only_while_someone_holds_its_lease(viewer, redis_client):
    cards = {card["login"]: card for card in viewer.get("/api/follows/live").json["data"]}
    assert cards["speedy_sam"]["channel"] == "private-speedy_sam"
    assert authorize(viewer, "private-speedy_sam").status_code == 403
    save_lease(redis_client, new_lease({"id": "122699689", "login": "speedy_sam"}))
    assert authorize(viewer, "private-speedy_sam").status_code == 200
    assert authorize(viewer, "private-night_owl").status_code == 403  # not followed


def test_a_viewer_asks_for_a_bounded_number_of_streamers(viewer):
    assert watch(viewer, "cool_user").status_code == 200
    assert watch(viewer, "speedy_sam").status_code == 200
    refused = watch(viewer, "chill_chess")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= ASKED_FOR_SECONDS + 1
    assert authorize(viewer, "private-chill_chess").status_code == 403
    assert watch(viewer, "cool_user").status_code == 200  # one already asked for


def test_an_old_ask_neither_counts_nor_lets_one_join(redis_client):
    day_ago = time.time() - ASKED_FOR_SECONDS - 1
    assert ask_for_streamer(redis_client, "7", "cool_user", 1, now=day_ago) is None
    assert may_join(redis_client, "7", "cool_user", now=day_ago + 10)
    assert not may_join(redis_client, "7", "cool_user")
    assert ask_for_streamer(redis_client, "7", "speedy_sam", 1) is None
    wait = ask_for_streamer(redis_client, "7", "night_owl", 1)
    assert wait is not None and ASKED_FOR_SECONDS - 5 < wait <= ASKED_FOR_SECONDS


def test_parallel_asks_cannot_pass_the_daily_cap_together(redis_client):
    for n in range(19):
        assert ask_for_streamer(redis_client, "8", f"streamer_{n}", 20) is None
    start = threading.Barrier(16)

    def ask(n):
        start.wait()
        return ask_for_streamer(redis_client, "8", f"newcomer_{n}", 20)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(16)))
    assert sum(answer is None for answer in answers) == 1, "one more, and only one"
    assert redis_client.zcard(asked_key("8")) == 20
