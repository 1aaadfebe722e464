"""The leases operator commands."""

from shared.alerts import add_alert
from shared.leases import ALERT, WATCH, lease_for_login, new_lease, save_lease
from shared.store import count_unheld_revocation
from shared.subscriptions import Subscriptions
from web.clients import get_settings, get_twitch

COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


def test_list_counts_the_ignored_revocations(runner, redis_client):
    count_unheld_revocation(redis_client)
    count_unheld_revocation(redis_client)
    result = runner.invoke(args=["leases", "list"])
    assert result.exit_code == 0
    assert "revocations of subscriptions we do not hold (ignored): 2" in result.output


def test_watch_explains_the_name_rule(runner, redis_client):
    result = runner.invoke(args=["leases", "watch", "bad name!"])
    assert result.exit_code == 2
    assert "4 to 25 letters, digits or underscores" in result.output
    assert "no Twitch channel named" not in result.output
    assert redis_client.llen("maintenance") == 0


def test_list_says_why_each_lease_is_held(runner, redis_client):
    alerted = new_lease({"id": "1", "login": "cool_user", "name": "Cool_User"}, reason=ALERT)
    alerted["subscriptions"] = {"stream.online": {"id": "sub-1", "status": "enabled"}}
    both = new_lease({"id": "2", "login": "other_user"}, reason=WATCH)
    both["reasons"].append(ALERT)
    for lease in (alerted, both):
        save_lease(redis_client, lease)
    lines = runner.invoke(args=["leases", "list"]).output.splitlines()
    assert "cool_user (1)  go-live alerts" in lines
    assert "  stream.online   enabled                                  sub-1" in lines
    assert "other_user (2)  watched, expired; go-live alerts" in lines


def held_for(twitch_app, redis_client, *reasons):
    """Hold cool_user's lease at the Twitch emulator for ``reasons``, as the worker would."""
    with twitch_app.app_context():
        subscriptions = Subscriptions(get_twitch(), redis_client, get_settings())
        for reason in reasons:
            subscriptions.ensure(COOL_USER, reason)


def test_release_stops_watching_but_keeps_what_alerts_need(twitch_app, redis_client):
    held_for(twitch_app, redis_client, WATCH, ALERT)
    add_alert(redis_client, "viewer-1", COOL_USER, 50)
    result = twitch_app.test_cli_runner().invoke(args=["leases", "release", "cool_user"])
    assert result.exit_code == 0, result.output
    assert "kept for the go-live alerts of 1 viewer" in result.output
    lease = lease_for_login(redis_client, "cool_user")
    assert lease["reasons"] == [ALERT]
    assert sorted(lease["subscriptions"]) == ["stream.online"]
    again = twitch_app.test_cli_runner().invoke(args=["leases", "release", "cool_user"])
    assert again.exit_code == 1
    assert "held only for the go-live alerts of 1 viewer" in again.output


def test_release_of_a_watched_lease_deletes_it(twitch_app, redis_client):
    held_for(twitch_app, redis_client, WATCH)
    result = twitch_app.test_cli_runner().invoke(args=["leases", "release", "cool_user"])
    assert result.exit_code == 0 and "released cool_user" in result.output
    assert lease_for_login(redis_client, "cool_user") is None
    with twitch_app.app_context():
        assert get_twitch().eventsub_subscriptions()["data"] == []
