"""The leases operator commands."""

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
