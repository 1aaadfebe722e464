"""The leases operator commands."""

from shared.leases import ALERT, WATCH, new_lease, save_lease
from shared.store import count_unheld_revocation


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
